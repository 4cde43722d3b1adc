// Memory readings that mean something: the resident set after a full garbage collection, so that
// garbage V8 has not collected yet does not count as growth. The collector is the one node exposes
// with --expose-gc when the run was started so; otherwise the flag is set at run time and the
// function fetched from a fresh context (it must be set before `gc` is first looked up).
import v8 from 'node:v8';
import vm from 'node:vm';

export const MB = 2 ** 20;

let collector: (() => void) | null | undefined;

function findCollector(): (() => void) | null {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as () => void;
  try {
    v8.setFlagsFromString('--expose-gc');
    const fetched = vm.runInNewContext('typeof gc === "function" ? gc : null') as unknown;
    return typeof fetched === 'function' ? (fetched as () => void) : null;
  } catch {
    return null;
  }
}

/** Runs a full garbage collection; false when none could be run. */
export function collectGarbage(): boolean {
  collector ??= findCollector();
  if (!collector) return false;
  collector();
  return true;
}

/** This process's resident set in MiB, after a full collection when one can be run. */
export function residentSetMb(): { mb: number; collected: boolean } {
  const collected = collectGarbage();
  return { mb: process.memoryUsage().rss / MB, collected };
}
