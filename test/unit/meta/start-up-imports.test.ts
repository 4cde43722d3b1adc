// Starting the service loads what every request needs, and not the packages only some requests or
// some configurations need: each is imported on first use (see the modules named below). Loading
// the application's module graph here must not load any of them.
const mockLoaded: string[] = [];

function mockRecording(name: string): object {
  mockLoaded.push(name);
  return jest.requireActual<object>(name);
}

jest.mock('zod', () => mockRecording('zod'));
jest.mock('jsonwebtoken', () => mockRecording('jsonwebtoken'));
jest.mock('@google-cloud/kms', () => mockRecording('@google-cloud/kms'));
jest.mock('@aws-sdk/client-sts', () => mockRecording('@aws-sdk/client-sts'));
jest.mock('google-auth-library', () => mockRecording('google-auth-library'));
jest.mock('@electric-sql/pglite', () => mockRecording('@electric-sql/pglite'));

test('the application module graph loads no package that only some requests or configurations need', async () => {
  // src/rest/rest-door.ts (zod), src/auth/token-verifier.ts (jsonwebtoken), src/secrets/open-key-service.ts
  // (Cloud KMS), src/aws/sts-client.ts (STS), src/google/google-access-tokens.ts (Google auth),
  // src/db/database.ts (PGlite).
  await jest.isolateModulesAsync(async () => {
    await import('../../../src/application');
  });
  expect(mockLoaded).toEqual([]);
});

test('the recording itself works: requiring one of those packages is seen', async () => {
  await jest.isolateModulesAsync(async () => {
    await import('../../../src/rest/rest.routes');
  });
  expect(mockLoaded).toContain('zod');
});
