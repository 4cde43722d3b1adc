// mintDevelopmentToken: HS256 tokens with the claims the verifier expects.
import { decode } from 'jsonwebtoken';
import { mintDevelopmentToken } from '../../../src/auth/token-minter';
import { TokenVerifier } from '../../../src/auth/token-verifier';

const SECRET = 'unit-test-secret-0123456789-abcdefghij';
const ORG_ID = '6f1c2b9e-3a4d-4e5f-8a7b-1c2d3e4f5a6b';

function header(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('mintDevelopmentToken', () => {
  test('a minted token is accepted by the verifier with the same secret', async () => {
    const token = mintDevelopmentToken(SECRET, { orgId: ORG_ID, roles: ['viewer'], sub: 'bob' });
    await expect(TokenVerifier.create({ secret: SECRET }).verify(token)).resolves.toEqual({
      userId: 'bob',
      orgId: ORG_ID,
      roles: ['viewer'],
    });
  });

  test('tokens are HS256', () => {
    expect(header(mintDevelopmentToken(SECRET, { orgId: ORG_ID, roles: ['admin'] })).alg).toBe('HS256');
  });

  test('sub defaults to dev-user and the lifetime to 12 hours', () => {
    const claims = decode(mintDevelopmentToken(SECRET, { orgId: ORG_ID, roles: ['admin'] }), { json: true });
    expect(claims?.sub).toBe('dev-user');
    expect((claims?.exp ?? 0) - (claims?.iat ?? 0)).toBe(12 * 60 * 60);
  });

  test('issuer and audience are included when given', async () => {
    const token = mintDevelopmentToken(SECRET, { orgId: ORG_ID, roles: ['admin'], issuer: 'dev-issuer', audience: 'vault' });
    const strict = TokenVerifier.create({ secret: SECRET, issuer: 'dev-issuer', audience: 'vault' });
    await expect(strict.verify(token)).resolves.toMatchObject({ userId: 'dev-user' });
  });

  test('a lifetime that is not a positive whole number is refused', () => {
    expect(() => mintDevelopmentToken(SECRET, { orgId: ORG_ID, roles: ['admin'], expiresInSeconds: 0 })).toThrow(RangeError);
    expect(() => mintDevelopmentToken(SECRET, { orgId: ORG_ID, roles: ['admin'], expiresInSeconds: 1.5 })).toThrow(RangeError);
  });
});
