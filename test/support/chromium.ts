// Debian's Chromium for the browser tests (driven by playwright-core, which downloads no browser):
// its path from `command -v chromium`, and the describe that runs them. Without a chromium binary
// the suite is skipped with a message saying how to install it, except in CI (CI set), where the
// missing binary fails the suite instead: .ci/run installs it.
import { execFileSync } from 'node:child_process';

export interface BrowserSuite {
  /** The chromium binary, for chromium.launch({ executablePath }); undefined when there is none. */
  executablePath: string | undefined;
  /** `describe`, or `describe.skip` when no chromium can run the suite outside CI. */
  describeWithBrowser: jest.Describe;
}

/** The browser suite of a test file; `what` names its tests in the skip message ("the portal browser tests"). */
export function browserSuite(what: string): BrowserSuite {
  let executablePath: string | undefined;
  try {
    executablePath = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    executablePath = undefined;
  }
  const inCi = Boolean(process.env.CI);
  if (!executablePath && !inCi) {
    console.warn(
      [
        `Skipping ${what}: no chromium binary on PATH (\`command -v chromium\` found nothing).`,
        "They drive Debian's Chromium through playwright-core; install it with `apt-get install -y chromium` to run them.",
        'In CI (CI set) a missing chromium fails the suite instead: .ci/run installs it.',
      ].join('\n'),
    );
  }
  return { executablePath, describeWithBrowser: executablePath || inCi ? describe : describe.skip };
}
