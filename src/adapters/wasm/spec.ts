// The config block of a `wasm` plugin (an Asterai component).
import { z } from 'zod';
import { basePluginSpecShape } from '../../core/plugin.js';

export const wasmSpecSchema = z.strictObject({
  ...basePluginSpecShape,
  kind: z.literal('wasm'),
  /** The plugin's WIT (a file, or a folder with deps/): package name, version, doc comments. */
  wit: z.string().min(1).optional(),
  /** Where transpiled components are cached (default: <cache dir>/wasm). */
  cacheDir: z.string().min(1).optional(),
  /** Where the plugin's kv and embedding stores live (default: <state dir>/wasm-data). */
  dataDir: z.string().min(1).optional(),
  /** Linear memory cap per instance, in MiB. */
  memoryLimitMb: z.number().int().min(1).max(4096).default(256),
  /** Instances that may run calls at the same time (each in its own worker). */
  instances: z.number().int().min(1).max(16).default(1),
});
export type WasmSpec = z.output<typeof wasmSpecSchema>;
