// Starts the real application (HTTP server, database, key ring) on an ephemeral port for
// end-to-end tests, captures its log lines, and gives a small GraphQL client.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Application, startApplication } from '../../src/application';
import { type Config, loadConfig } from '../../src/config/config';
import { mintDevelopmentToken } from '../../src/auth/token-minter';
import { captureLines } from './capture-io';
import { TEST_JWT_SECRET } from './tokens';

export interface GraphQLResponse<Data = Record<string, unknown>> {
  status: number;
  body: {
    data?: Data | null;
    errors?: { message: string; extensions?: Record<string, unknown>; path?: unknown[] }[];
    /** What a server adds at the top level (a gateway's valueCompletion, for instance). */
    extensions?: Record<string, unknown>;
  };
  text: string;
}

export interface GraphQLRequestOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
}

/** POSTs a GraphQL operation as JSON to `url` and returns the status, the parsed body and the raw text. */
export async function postGraphQL<Data = Record<string, unknown>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  options: GraphQLRequestOptions = {},
): Promise<GraphQLResponse<Data>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as GraphQLResponse<Data>['body'], text };
}

/** The log lines (JSON, as the application writes them) whose `event` is `event`, parsed. */
export function logEvents<Line extends Record<string, unknown> = Record<string, unknown>>(lines: readonly string[], event: string): Line[] {
  return lines.map((line) => JSON.parse(line) as Line).filter((line) => line.event === event);
}

/** GETs (or sends `init` to) a JSON endpoint such as /healthz or /readyz: the status and the parsed body. */
export async function fetchJson<Body = unknown>(url: string, init?: RequestInit): Promise<{ status: number; body: Body }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Body };
}

export interface TestApp {
  app: Application;
  config: Config;
  url: string;
  baseUrl: string;
  dataDir: string;
  /** Every log line the application wrote, raw. */
  logLines: string[];
  token(options: { orgId: string; roles?: string[]; sub?: string }): string;
  graphql<Data = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: GraphQLRequestOptions,
  ): Promise<GraphQLResponse<Data>>;
  stop(): Promise<void>;
}

export async function startTestApp(
  options: { databaseUrl?: string; env?: Record<string, string>; dataDir?: string } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'vault-e2e-'));
  const ownsDataDir = options.dataDir === undefined;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'debug',
    RUNTIME_PORT: '0',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  });
  const { lines: logLines, destination } = captureLines();
  const app = await startApplication(config, { logDestination: destination });
  const secret = config.jwt.secret ?? TEST_JWT_SECRET;
  return {
    app,
    config,
    url: app.url,
    baseUrl: app.url.replace(/\/graphql$/, ''),
    dataDir,
    logLines,
    token: ({ orgId, roles = ['admin'], sub = 'test-user' }) => mintDevelopmentToken(secret, { orgId, roles, sub }),
    graphql: <Data>(query: string, variables?: Record<string, unknown>, requestOptions?: GraphQLRequestOptions) =>
      postGraphQL<Data>(app.url, query, variables, requestOptions),
    async stop() {
      await app.close();
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
