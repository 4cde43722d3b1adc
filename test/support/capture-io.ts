// Captures what a command-line tool writes to stdout and stderr (captureIo), and what a logger
// writes to its destination, line by line (captureLines).
import { Writable } from 'node:stream';
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

/** A log destination that keeps every non-empty line written to it, raw, in `lines`. */
export function captureLines(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line.length > 0),
      );
      callback();
    },
  });
  return { lines, destination };
}
