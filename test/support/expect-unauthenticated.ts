// Asserts that verification failed the way callers see it: an UNAUTHENTICATED error with the
// expected message, never echoing the token.
import { UnauthenticatedError } from '../../src/errors/app-error';
import { rejectionOf } from './failures';

export async function expectUnauthenticated(promise: Promise<unknown>, message: RegExp, token?: string): Promise<void> {
  const caught = await rejectionOf(promise);
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
