// Asserts that verification failed the way callers see it: an UNAUTHENTICATED error with the
// expected message, never echoing the token.
import { UnauthenticatedError } from '../../../src/errors/app-error';

export async function expectUnauthenticated(promise: Promise<unknown>, message: RegExp, token?: string): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(UnauthenticatedError);
  const error = caught as UnauthenticatedError;
  expect(error.code).toBe('UNAUTHENTICATED');
  expect(error.message).toMatch(message);
  if (token !== undefined) {
    expect(error.message).not.toContain(token);
    // Nor any part of it, such as the signature.
    const signature = token.split('.')[2];
    if (signature) expect(error.message).not.toContain(signature);
  }
}
