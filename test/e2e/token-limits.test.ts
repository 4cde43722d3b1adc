// The token limits hold at every door that verifies tokens: GraphQL, the REST door under both of
// its prefixes and the runtime listener. The application is started with JWT_MAX_TTL=1h, so the
// setting is seen to travel from the environment to each door. A token living too long, issued in
// the future or carrying crit is 401 UNAUTHENTICATED with a message naming why, never the token.
import { randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import { expectRestError, REST_PREFIXES, restClient } from '../support/rest-client';
import { expectRuntimeError, runtimeRequest } from '../support/runtime-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { handMadeToken, TEST_JWT_SECRET } from '../support/tokens';
import { expectError, LIST_CREDENTIALS } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('token_limits_e2e');
  vault = await startTestApp({ databaseUrl: database.url, env: { JWT_MAX_TTL: '1h' } });
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

const orgId = randomUUID();
const now = () => Math.floor(Date.now() / 1000);

function claims(roles: string[], times: { iat?: number; exp: number }): Record<string, unknown> {
  return { sub: 'token-limits', org_id: orgId, roles, ...times };
}

/** Signed with the application's secret, with exactly these times. */
function tokenWith(roles: string[], times: { iat?: number; exp: number }): string {
  return sign(claims(roles, times), TEST_JWT_SECRET, { algorithm: 'HS256', noTimestamp: times.iat === undefined });
}

const refusals: [string, (roles: string[]) => string, RegExp][] = [
  ['living two hours (JWT_MAX_TTL is one)', (roles) => tokenWith(roles, { iat: now(), exp: now() + 7200 }), /lives longer.*3600 seconds/],
  ['expiring in the year 9999', (roles) => tokenWith(roles, { iat: now(), exp: 253_402_300_799 }), /lives longer/],
  [
    'without iat, expiring in two hours',
    (roles) => tokenWith(roles, { exp: now() + 7200 }),
    /has no iat and expires further from now than/,
  ],
  ['issued ten minutes in the future', (roles) => tokenWith(roles, { iat: now() + 600, exp: now() + 1200 }), /issued in the future/],
  [
    'with a crit header',
    (roles) => handMadeToken({ alg: 'HS256', typ: 'JWT', crit: ['exp'] }, claims(roles, { iat: now(), exp: now() + 600 }), TEST_JWT_SECRET),
    /critical extensions \(crit\)/,
  ],
];

/** Half an hour: within JWT_MAX_TTL. */
const acceptable = (roles: string[]) => tokenWith(roles, { iat: now(), exp: now() + 1800 });

// Each test first sends a token living half an hour, which must pass: the refusal is about the limit.
describe('GraphQL', () => {
  test.each(refusals)('a token %s is UNAUTHENTICATED', async (_label, tokenOf, reason) => {
    const accepted = await vault.graphql<{ credentials: { totalCount: number } }>(LIST_CREDENTIALS, {}, { token: acceptable(['admin']) });
    expect(accepted.body).toEqual({ data: { credentials: expect.objectContaining({ totalCount: 0 }) } });

    const token = tokenOf(['admin']);
    const response = await vault.graphql(LIST_CREDENTIALS, {}, { token });
    expectError(response, { code: 'UNAUTHENTICATED', message: reason });
    expect(response.text).not.toContain(token.split('.')[2]);
  });
});

describe.each(REST_PREFIXES)('REST under %s', (prefix) => {
  test.each(refusals)('a token %s is 401 authentication_error', async (_label, tokenOf, reason) => {
    const accepted = await restClient(vault, { prefix, token: acceptable(['admin']) }).get('/connections');
    expect({ status: accepted.status, body: accepted.body }).toEqual({ status: 200, body: [] });

    const token = tokenOf(['admin']);
    const response = await restClient(vault, { prefix, token }).get('/connections');
    expectRestError(response, { status: 401, type: 'authentication_error', message: reason, notEchoing: [token, token.split('.')[2]] });
  });
});

describe('the runtime listener', () => {
  test.each(refusals)('a runtime token %s is 401 UNAUTHENTICATED', async (_label, tokenOf, reason) => {
    // Past authentication, a credential that does not exist is 404.
    const accepted = await runtimeRequest(vault, { credential_id: randomUUID() }, { token: acceptable(['runtime']) });
    expectRuntimeError(accepted, { status: 404, type: 'not_found_error', code: 'NOT_FOUND' });

    const token = tokenOf(['runtime']);
    const response = await runtimeRequest(vault, { credential_id: randomUUID() }, { token });
    expectRuntimeError(response, { status: 401, type: 'authentication_error', code: 'UNAUTHENTICATED', param: null, message: reason });
    expect(response.text).not.toContain(token.split('.')[2]);
  });
});
