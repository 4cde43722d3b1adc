// Tracing as it runs in production: the compiled service in a process of its own (tracing starts
// in main.ts, before what it instruments is loaded), OTEL_EXPORTER_OTLP_ENDPOINT pointing at an
// OTLP/HTTP receiver in this test, PostgreSQL, the fake KMS over gRPC, the fake STS and the fake
// Google. Canary secrets go in every way a client can send them (GraphQL variables and literals, a
// literal where an enum belongs, REST bodies, a malformed body, a GET query string, bearer tokens),
// are rotated, resolved by the runtime route and validated; the clouds mint credentials from them.
// Then every byte the service exported is searched for each of them (as is, hex, base64): spans
// arrive (HTTP, Express, GraphQL, PostgreSQL and gRPC ones), and no secret is in any of them.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { mintDevelopmentToken } from '../../src/auth/token-minter';
import { type FakeKms, startFakeKms } from '../fakes/fake-kms-server';
import { type BuiltService, buildService, type ServiceProcess, startService } from '../support/built-service';
import {
  accessKeyIdCanary,
  apiKeyCanary,
  type Canary,
  canary,
  findCanaries,
  type Haystack,
  nameCanary,
  pemNeedle,
  roleArnCanary,
  secretNeedle,
} from '../support/canaries';
import { type CloudFakes, issuedCredentials, kmsEnv, serviceAccountAuth, startCloudFakes } from '../support/cloud-fakes';
import { aCredentialInput, hex } from '../support/factories';
import { postGraphQL } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { TEST_JWT_SECRET } from '../support/tokens';
import { CREATE_CREDENTIAL, UPDATE_CREDENTIAL } from '../support/vault-client';
import { VALIDATE_AWS_ROLE, VALIDATE_GOOGLE_VERTEX } from '../support/validation-harness';

jest.setTimeout(180_000);

const REGION = 'us-east-1';
const VERTEX_PROJECT = 'vault-tracing-project';
const ORG_ID = '6f1b3a52-0c1e-4d1f-9a55-2f4d3c8b7e10';

interface OtlpRequest {
  path: string;
  contentType: string;
  body: Buffer;
}

/** An OTLP/HTTP receiver: keeps every request's body, answers 200 `{}`. */
async function startOtlpReceiver(): Promise<{ endpoint: string; requests: OtlpRequest[]; close(): Promise<void> }> {
  const requests: OtlpRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface ExportedSpan {
  scope: string;
  name: string;
  attributes: Record<string, unknown>;
  /** The attribute names of its events (exceptions, messages). */
  eventAttributeKeys: string[];
}

/** The spans of OTLP/JSON export requests, with their instrumentation scope and attributes. */
function spansOf(requests: OtlpRequest[]): ExportedSpan[] {
  type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
  type Export = {
    resourceSpans?: {
      scopeSpans?: {
        scope?: { name?: string };
        spans?: { name: string; attributes?: { key: string; value: AnyValue }[]; events?: { attributes?: { key: string }[] }[] }[];
      }[];
    }[];
  };
  return requests.flatMap((request) =>
    ((JSON.parse(request.body.toString('utf8')) as Export).resourceSpans ?? []).flatMap((resource) =>
      (resource.scopeSpans ?? []).flatMap((scope) =>
        (scope.spans ?? []).map((span) => ({
          scope: scope.scope?.name ?? '',
          name: span.name,
          attributes: Object.fromEntries(
            (span.attributes ?? []).map(({ key, value }) => [
              key,
              value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue,
            ]),
          ),
          eventAttributeKeys: (span.events ?? []).flatMap((event) => (event.attributes ?? []).map(({ key }) => key)),
        })),
      ),
    ),
  );
}

let built: BuiltService;
let database: TestDatabase;
let kms: FakeKms;
let fakes: CloudFakes;
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let dataDir: string;
let service: ServiceProcess | undefined;

/** What each step of the exercise answered, and what it should have: checked by a test below. */
const steps: { step: string; expected: unknown; got: unknown }[] = [];
function step(name: string, got: unknown, expected: unknown): void {
  steps.push({ step: name, expected, got });
}

/** Every secret the exercise sends or makes the clouds issue. */
const secrets: Canary[] = [];
function secret<T extends Canary>(value: T): T {
  secrets.push(value);
  return value;
}

beforeAll(async () => {
  [built, database, kms, fakes, receiver] = await Promise.all([
    buildService('tracing'),
    createTestDatabase('tracing_leak_scan'),
    startFakeKms(),
    startCloudFakes({ stsRegion: REGION, appRegion: REGION, vertexProject: VERTEX_PROJECT, vertexApi: true }),
    startOtlpReceiver(),
  ]);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-tracing-'));
  secrets.push(pemNeedle('ADC private key', fakes.adcAccount.privateKeyPem));

  service = await startService(built, {
    ...fakes.env,
    ...kmsEnv(kms),
    DATABASE_URL: database.url,
    JWT_SECRET: TEST_JWT_SECRET,
    DATA_DIR: dataDir,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    // Batches go out every 100 ms rather than every 5 s; stopping sends the rest.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
  await exercise(service);
  step('stop (SIGTERM), exported spans flushed', (await service.stop('SIGTERM')).code, 0);
});

afterAll(async () => {
  if (service?.child.exitCode === null) service.child.kill('SIGKILL');
  await receiver?.close();
  await fakes?.close();
  await kms?.close();
  await database?.drop();
  built?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Creates, rotates, resolves and validates credentials made of canaries, every way a client can send them. */
async function exercise(vault: ServiceProcess): Promise<void> {
  const admin = secret(
    secretNeedle('admin token', mintDevelopmentToken(TEST_JWT_SECRET, { orgId: ORG_ID, roles: ['admin'], sub: 'tracing-admin' })),
  );
  const runtime = secret(
    secretNeedle('runtime token', mintDevelopmentToken(TEST_JWT_SECRET, { orgId: ORG_ID, roles: ['runtime'], sub: 'tracing-gateway' })),
  );
  const origin = vault.url.replace(/\/graphql$/, '');
  const graphql = async (query: string, variables?: Record<string, unknown>) => {
    const response = await postGraphQL<Record<string, { id: string } | null>>(vault.url, query, variables, { token: admin.value });
    return response;
  };
  const created = async (input: object): Promise<string> => {
    const response = await graphql(CREATE_CREDENTIAL, { input });
    const id = response.body.data?.createCredential?.id;
    if (!id) throw new Error(`createCredential failed: ${response.text}`);
    return id;
  };
  const resolve = async (credentialId: string) => {
    const response = await fetch(`${vault.runtimeUrl ?? ''}/v1/upstream-auth`, {
      method: 'POST',
      headers: { authorization: `Bearer ${runtime.value}`, 'content-type': 'application/json' },
      body: JSON.stringify({ credential_id: credentialId }),
    });
    step(`resolve ${credentialId}`, response.status, 200);
  };

  // An API key in variables, rotated to another one, and resolved.
  const apiKeyId = await created(aCredentialInput({ auth: { apiKey: { apiKey: secret(apiKeyCanary('apiKeyVariable')).value } } }));
  const rotated = await graphql(UPDATE_CREDENTIAL, {
    id: apiKeyId,
    input: { auth: { apiKey: { apiKey: secret(apiKeyCanary('apiKeyRotated')).value } } },
  });
  step('rotation', rotated.body.errors, undefined);
  await resolve(apiKeyId);

  // An API key as a literal of the document.
  const literal = await graphql(
    `mutation { createCredential(input: { name: "tracing-${hex(4)}", modelProvider: OPENAI, auth: { apiKey: { apiKey: "${secret(apiKeyCanary('apiKeyLiteral')).value}" } } }) { id } }`,
  );
  step('create with a literal', literal.body.errors, undefined);

  // A secret typed where an enum goes: refused by validation, whose errors quote it.
  const enumLiteral = await graphql(
    `mutation { createCredential(input: { name: "x", modelProvider: ${secret(nameCanary('enumLiteral')).value}, auth: { apiKey: { apiKey: "sk-0123456789" } } }) { id } }`,
  );
  step('create with a secret as an enum', enumLiteral.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');

  // AWS keys the fake STS knows, resolved into session credentials (GetSessionToken).
  const keyPair = { accessKeyId: secret(accessKeyIdCanary('accessKeyId')).value, secretAccessKey: secret(canary('secretAccessKey')).value };
  fakes.sts.registerKeys(keyPair.accessKeyId, keyPair.secretAccessKey);
  await resolve(await created(aCredentialInput({ modelProvider: 'BEDROCK', auth: { awsKeys: keyPair }, settings: { region: REGION } })));

  // An AWS role and its external id, resolved (AssumeRole) and validated (two AssumeRole calls).
  const role = { iamRoleArn: secret(roleArnCanary('iamRoleArn')).value, externalId: secret(canary('externalId')).value };
  fakes.sts.addRole({ arn: role.iamRoleArn, externalId: role.externalId });
  await resolve(await created(aCredentialInput({ modelProvider: 'BEDROCK', auth: { awsRole: role }, settings: { region: REGION } })));
  const validatedRole = await graphql(VALIDATE_AWS_ROLE, { input: { role } });
  step('validateAwsRole', validatedRole.body.errors, undefined);

  // A Google service account's key, resolved into an access token and validated against Vertex AI.
  const account = fakes.google.createServiceAccount(`tracing-${hex(3)}@${VERTEX_PROJECT}.iam.gserviceaccount.com`, VERTEX_PROJECT);
  fakes.google.grantVertex(account.clientEmail, VERTEX_PROJECT);
  secret(pemNeedle('service-account private key', account.privateKeyPem));
  await resolve(await created(aCredentialInput({ modelProvider: 'VERTEX', auth: serviceAccountAuth(account) })));
  const validatedVertex = await graphql(VALIDATE_GOOGLE_VERTEX, { input: serviceAccountAuth(account), projectId: VERTEX_PROJECT });
  step('validateGoogleVertex', validatedVertex.body.errors, undefined);

  // The REST door: a create, and a body that is not JSON (the parser's error quotes what it choked on).
  const restHeaders = { authorization: `Bearer ${admin.value}`, 'content-type': 'application/json' };
  const restCreate = await fetch(`${origin}/admin/connections`, {
    method: 'POST',
    headers: restHeaders,
    body: JSON.stringify({ name: `tracing-rest-${hex(4)}`, model_provider: 'openai', api_key: secret(apiKeyCanary('apiKeyRest')).value }),
  });
  step('REST create', restCreate.status, 200);
  const malformed = await fetch(`${origin}/admin/connections`, {
    method: 'POST',
    headers: restHeaders,
    body: `{"name": "x", "api_key": ${secret(canary('malformedBody')).value}}`,
  });
  step('REST malformed body', malformed.status, 400);

  // A GET query with its variables in the query string.
  const query = new URLSearchParams({
    query: 'query Lookup($after: String) { credentials(first: 1, after: $after) { totalCount } }',
    variables: JSON.stringify({ after: secret(canary('queryString')).value }),
  });
  const get = await fetch(`${vault.url}?${query.toString()}`, {
    headers: { authorization: `Bearer ${admin.value}`, 'apollo-require-preflight': 'true' },
  });
  step('GET query', get.status, 200);

  // What the clouds issued from those secrets.
  secrets.push(...issuedCredentials(fakes));
}

const exported = (): Haystack[] =>
  receiver.requests.map((request, index) => ({ source: `export ${index} (${request.path})`, text: request.body.toString('utf8') }));

test('spans are exported over OTLP/HTTP, as JSON, to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces', () => {
  expect(receiver.requests.length).toBeGreaterThan(0);
  expect(new Set(receiver.requests.map((request) => `${request.path} ${request.contentType}`))).toEqual(
    new Set(['/v1/traces application/json']),
  );
});

test('HTTP, Express, GraphQL, PostgreSQL and gRPC (KMS) spans are all there', () => {
  const scopes = new Set(spansOf(receiver.requests).map((span) => span.scope));
  for (const instrumentation of ['http', 'express', 'graphql', 'pg', 'grpc']) {
    expect([...scopes]).toContain(`@opentelemetry/instrumentation-${instrumentation}`);
  }
});

test('the spans say what happened: routes, operations, statements and KMS methods', () => {
  const spans = spansOf(receiver.requests);
  expect(spans.some((span) => String(span.attributes['http.route']).endsWith('/connections'))).toBe(true);
  expect(spans.some((span) => span.attributes['graphql.operation.name'] === 'CreateCredential')).toBe(true);
  const statements = spans.map((span) => span.attributes['db.statement'] ?? span.attributes['db.query.text']);
  expect(statements.some((statement) => typeof statement === 'string' && statement.includes('credentials'))).toBe(true);
  expect(spans.some((span) => span.name.includes('KeyManagementService/Encrypt'))).toBe(true);
});

test('no exported byte holds a secret, a bearer token or a credential the clouds issued', () => {
  // The exercise went as planned (every secret reached the service), and spans of it were exported.
  expect(steps.filter(({ expected, got }) => !Object.is(expected, got))).toEqual([]);
  expect(secrets.length).toBeGreaterThan(15);
  expect(spansOf(receiver.requests).length).toBeGreaterThan(100);
  expect(findCanaries(secrets, exported())).toEqual([]);
});

test('no span carries a GraphQL document, variables, database parameters, headers or error messages', () => {
  const keys = new Set(spansOf(receiver.requests).flatMap((span) => [...Object.keys(span.attributes), ...span.eventAttributeKeys]));
  expect(keys.size).toBeGreaterThan(10);
  const refused = [...keys].filter((key) =>
    /^(graphql\.source|graphql\.variables\.|db\.postgresql\.values|db\.query\.parameter\.|http\.(request|response)\.header\.|url\.query|exception\.(message|stacktrace))/.test(
      key,
    ),
  );
  expect(refused).toEqual([]);
});
