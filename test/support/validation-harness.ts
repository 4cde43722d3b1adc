// What the validation end-to-end tests share: the two mutations as GraphQL documents, the requests
// a fake peer received meanwhile, this service's own AWS identity in the process environment (the
// SDK's default credential chain reads it from there), a key file for its own Google identity
// (ADC), and /healthz while a validation runs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FakeGoogleCloud } from '../fakes/fake-google-cloud';
import { sleep } from './sleep';
import { fetchJson, type TestApp } from './test-app';

export const VALIDATION_RESULT_FIELDS = 'ok authType message checks { name ok detail durationMs }';

export const VALIDATE_AWS_ROLE = `mutation ValidateAwsRole($input: AwsRoleValidationInput!, $region: String) {
  validateAwsRole(input: $input, region: $region) { ${VALIDATION_RESULT_FIELDS} }
}`;

export const VALIDATE_GOOGLE_VERTEX = `mutation ValidateGoogleVertex($input: GoogleVertexValidationInput!, $projectId: String, $location: String, $model: String, $modelApiFamily: VertexApiFamily) {
  validateGoogleVertex(input: $input, projectId: $projectId, location: $location, model: $model, modelApiFamily: $modelApiFamily) { ${VALIDATION_RESULT_FIELDS} }
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

/** What `work` returned, and the requests `peer` (a fake that records them) received while it ran. */
export async function requestsDuring<Request, T>(
  peer: { readonly requests: readonly Request[] },
  work: () => Promise<T>,
): Promise<{ value: T; requests: Request[] }> {
  const mark = peer.requests.length;
  const value = await work();
  return { value, requests: peer.requests.slice(mark) };
}

/** The principal whose token the one Vertex request among `requests` (received by `google`) carried. */
export function vertexCaller(google: Pick<FakeGoogleCloud, 'principalOf'>, requests: FakeGoogleCloud['requests']): string | undefined {
  const vertex = requests.filter((request) => request.service === 'vertex');
  expect(vertex).toHaveLength(1);
  const bearer = /^Bearer (\S+)$/.exec(vertex[0].authorization ?? '');
  return bearer ? google.principalOf(bearer[1]) : undefined;
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

export function healthz(vault: TestApp): Promise<{ status: number; body: unknown }> {
  return fetchJson(`${vault.baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
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
      await sleep(200);
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
