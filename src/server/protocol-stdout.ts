// stdout belongs to the stdio transport. Claimed before any plugin loads, process.stdout
// (and so console.log, and anything else in the process that writes to it) goes to
// stderr; only the stream returned here writes to the real stdout, and the transport is
// the one that gets it.
import { Writable } from 'node:stream';

let claimed: Writable | undefined;

/** Reroutes process.stdout to stderr; returns the one stream that still writes to stdout. Idempotent. */
export function claimStdout(): Writable {
  if (claimed) return claimed;
  const stdout = process.stdout;
  const writeToStdout = stdout.write.bind(stdout) as (
    chunk: string | Uint8Array,
    encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ) => boolean;
  // Strings pass through as they are: stdout encodes them itself, without a Buffer between.
  const protocol = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, encoding, callback) {
      writeToStdout(chunk, encoding, callback);
    },
  });
  // A client that went away (EPIPE) ends the protocol stream, as it would end stdout.
  stdout.on('error', (error: Error) => protocol.destroy(error));
  const toStderr = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean =>
    (process.stderr.write as (...args: unknown[]) => boolean)(chunk, encoding, callback);
  stdout.write = toStderr;
  claimed = protocol;
  return protocol;
}
