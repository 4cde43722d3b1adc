// What the validation end-to-end tests share: the two mutations as GraphQL documents, a recorder
// that keeps every response text for the leak scans, this service's own AWS identity in the
// process environment (the SDK's default credential chain reads it from there), a key file for
// its own Google identity (ADC), loopback peers that refuse or never answer, and /healthz.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Canary } from './canaries';
import type { GraphQLResponse, TestApp } from './test-app';

export const VALIDATION_RESULT_FIELDS = 'ok authType message checks { name ok detail durationMs }';

export const VALIDATE_AWS_ROLE = `mutation ValidateAwsRole($input: AwsRoleValidationInput!, $region: String) {
  validateAwsRole(input: $input, region: $region) { ${VALIDATION_RESULT_FIELDS} }
}`;

export const VALIDATE_GOOGLE_VERTEX = `mutation ValidateGoogleVertex($input: GoogleVertexValidationInput!, $projectId: String!, $location: String, $model: String) {
  validateGoogleVertex(input: $input, projectId: $projectId, location: $location, model: $model) { ${VALIDATION_RESULT_FIELDS} }
}`;

export interface ValidationCheckView {
  name: string;
  ok: boolean;
  detail: string | null;
  durationMs: number;
}

export interface ValidationResultView {
  ok: boolean;
  authType: string;
  message: string | null;
  checks: ValidationCheckView[];
}

/** Name and outcome of each check, in order: what most assertions compare. */
export function outcomes(result: ValidationResultView): Array<[string, boolean]> {
  return result.checks.map((check) => [check.name, check.ok]);
}

/** The one check with this name; fails the test when there is not exactly one. */
export function checkNamed(result: ValidationResultView, name: string): ValidationCheckView {
  const found = result.checks.filter((check) => check.name === name);
  expect(found.map((check) => check.name)).toEqual([name]);
  return found[0];
}

/** Every GraphQL response text the tests received, for the leak scans at the end of a file. */
export class ResponseTranscript {
  readonly texts: Array<{ source: string; text: string }> = [];

  async send<Data>(vault: TestApp, query: string, variables: Record<string, unknown>, token: string | undefined, source: string) {
    const response: GraphQLResponse<Data> = await vault.graphql<Data>(query, variables, token === undefined ? {} : { token });
    this.texts.push({ source: `response to ${source}`, text: response.text });
    return response;
  }
}

const AWS_ENV_NAMES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_PROFILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_STS',
] as const;

/**
 * Makes `caller` this process's AWS identity for the SDK's default credential chain (environment
 * first) and returns a function that puts the environment back as it was. Instance metadata is
 * disabled so that a chain that found nothing fails at once instead of probing 169.254.169.254.
 */
export function useAwsIdentity(caller: { accessKeyId: string; secretAccessKey: string }): () => void {
  const saved = Object.fromEntries(AWS_ENV_NAMES.map((name) => [name, process.env[name]]));
  for (const name of AWS_ENV_NAMES) delete process.env[name];
  process.env.AWS_ACCESS_KEY_ID = caller.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = caller.secretAccessKey;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  return () => {
    for (const name of AWS_ENV_NAMES) {
      const value = saved[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** Writes a key file to a fresh temporary directory; `remove` deletes the directory. */
export function writeKeyFile(contents: Record<string, string>): { path: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vault-adc-'));
  const file = path.join(dir, 'application_default_credentials.json');
  writeFileSync(file, JSON.stringify(contents), { mode: 0o600 });
  return { path: file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A loopback port nothing listens on (it was bound and released a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface SilentPeer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** connections accepted so far */
  connections: number;
  close(): Promise<void>;
}

/** A TCP peer on loopback that accepts connections, reads what is sent and never answers. */
export async function startSilentPeer(): Promise<SilentPeer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    base: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export async function healthz(vault: TestApp): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${vault.baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
  return { status: response.status, body: await response.json() };
}

/**
 * Polls /healthz every 200 ms while `work` runs and returns what `work` returned, how long it took,
 * and every /healthz outcome seen meanwhile (a status, or 'failed' when the request did not finish).
 */
export async function whileHealthChecked<T>(
  vault: TestApp,
  work: () => Promise<T>,
): Promise<{ value: T; elapsedMs: number; health: Array<number | 'failed'> }> {
  const health: Array<number | 'failed'> = [];
  let running = true;
  const poller = (async () => {
    while (running) {
      try {
        health.push((await healthz(vault)).status);
      } catch {
        health.push('failed');
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  const started = Date.now();
  try {
    const value = await work();
    return { value, elapsedMs: Date.now() - started, health };
  } finally {
    running = false;
    await poller;
  }
}

/** Whether `work` settled within `ms`, and its value if it did (the work itself is left running). */
export async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<{ finished: true; value: T } | { finished: false }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<{ finished: false }>((resolve) => {
    timer = setTimeout(() => resolve({ finished: false }), ms);
  });
  try {
    return await Promise.race([work.then((value) => ({ finished: true as const, value })), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** 40 characters from the middle of one of a PEM's base64 lines: no other text shares them by chance. */
export function pemNeedle(label: string, pem: string): Canary {
  const bodyLines = pem.split('\n').filter((line) => line.length === 64);
  if (bodyLines.length === 0) throw new Error(`${label}: not a PEM with 64-character lines`);
  return { label, value: pem, needle: bodyLines[Math.floor(bodyLines.length / 2)].slice(12, 52) };
}

/** A secret some peer issued, as a canary whose needle is the whole value. */
export function secretNeedle(label: string, value: string): Canary {
  return { label, value, needle: value };
}
