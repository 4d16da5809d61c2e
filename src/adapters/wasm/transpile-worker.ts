// The transpile worker: reads a component's WIT and types and transpiles it with jco, off
// the main thread. For a component with a JS engine inside this takes seconds of
// synchronous work that would stall every other client; and jco's tools leave stray
// promise rejections behind on bad input, which stay in this thread.
import { parentPort, workerData } from 'node:worker_threads';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { describeComponent, type ComponentDescription } from './describe.js';

export interface TranspileRequest {
  bytes: Uint8Array;
}

export type TranspileReply =
  | { ok: true; description: ComponentDescription; files: [string, Uint8Array][] }
  | { ok: false; message: string };

// jco rejects internal task promises nobody awaits; the error itself comes back below.
process.on('unhandledRejection', () => {});

const port = parentPort as NonNullable<typeof parentPort>;
const { bytes } = workerData as TranspileRequest;

try {
  const description = await describeComponent(bytes);
  const output = await transpileBytes(bytes, {
    name: 'component',
    instantiation: 'async',
    // jco then rejects bad integers and missing fields itself too (our schemas come first).
    strict: true,
    // A top-level `result` error arrives as a ComponentError with the error value.
    noComponentErrorWrapping: false,
    emitTypescriptDeclarations: false,
    // Every core module is a separate file: their memories are capped before compiling.
    base64Cutoff: 0,
  });
  const files = Object.entries(output.files);
  port.postMessage({ ok: true, description, files } satisfies TranspileReply);
} catch (error) {
  const message = error instanceof Error ? error.message : String((error as { payload?: unknown } | undefined)?.payload ?? error);
  port.postMessage({ ok: false, message } satisfies TranspileReply);
}
