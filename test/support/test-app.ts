// Starts the real application (HTTP server, database, key ring) on an ephemeral port for
// end-to-end tests, captures its log lines, and gives a small GraphQL client.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { type Application, startApplication } from '../../src/application';
import { type Config, loadConfig } from '../../src/config/config';
import { mintDevelopmentToken } from '../../src/auth/token-minter';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface GraphQLResponse<Data = Record<string, unknown>> {
  status: number;
  body: { data?: Data | null; errors?: { message: string; extensions?: Record<string, unknown>; path?: unknown[] }[] };
  text: string;
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
    options?: { token?: string; headers?: Record<string, string> },
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
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  });
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line.length > 0),
      );
      callback();
    },
  });
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
    async graphql(query, variables, requestOptions = {}) {
      const response = await fetch(app.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(requestOptions.token ? { authorization: `Bearer ${requestOptions.token}` } : {}),
          ...requestOptions.headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      return { status: response.status, body: JSON.parse(text), text };
    },
    async stop() {
      await app.close();
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
