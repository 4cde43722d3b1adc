// What a call threw or a promise rejected with, for tests that go on to look at the error itself.
// Either one fails the test when nothing was thrown; given an error class, any other error
// propagates as it is.

type ErrorClass<E> = abstract new (...args: never[]) => E;

/** What `work` threw (of `type`, when given). */
export function thrownBy(work: () => unknown): unknown;
export function thrownBy<E>(work: () => unknown, type: ErrorClass<E>): E;
export function thrownBy<E>(work: () => unknown, type?: ErrorClass<E>): unknown {
  try {
    work();
  } catch (error) {
    if (type === undefined || error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected the call to throw${type ? ` ${type.name}` : ''}, but it returned`);
}

/** What `promise` rejected with (of `type`, when given). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown>;
export async function rejectionOf<E>(promise: Promise<unknown>, type: ErrorClass<E>): Promise<E>;
export async function rejectionOf<E>(promise: Promise<unknown>, type?: ErrorClass<E>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    if (type === undefined || error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected the call to fail${type ? ` with ${type.name}` : ''}, but it succeeded`);
}
