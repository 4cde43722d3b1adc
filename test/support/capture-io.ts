// Captures what a command-line tool writes to stdout and stderr.
import type { CliIo } from '../../src/cli/cli-io';

export function captureIo(): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout(text: string) {
      io.out += text;
    },
    stderr(text: string) {
      io.err += text;
    },
  };
  return io;
}
