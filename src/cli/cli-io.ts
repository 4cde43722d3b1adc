// What the command-line tools share: where they write, how they read configuration (once, like
// main.ts, with every bad variable reported), and how a `main` becomes the process's exit code.
import { type Config, ConfigError, loadConfig } from '../config/config';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The configuration, or null after reporting why it is invalid (exit with EXIT_USAGE). */
export function loadCliConfig(name: string, env: Record<string, string | undefined>, io: CliIo): Config | null {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`${name}: ${error.message}\n`);
    return null;
  }
}

/** Runs an async main as the process's entry point: its result is the exit code. */
export function runCli(name: string, main: (argv: string[], env: Record<string, string | undefined>) => Promise<number>): void {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}
