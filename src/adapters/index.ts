// The exhaustive table of plugin kinds and their adapters. A kind may be listed as
// unavailable with a reason, so loading it fails with a clear message.
import { commandAdapter } from './command/index.js';
import { httpAdapter } from './http/index.js';
import { moduleAdapter } from './module/index.js';
import { pythonAdapter } from './python/index.js';
import { wasmAdapter } from './wasm/index.js';
import type { PluginAdapter, PluginKind, PluginSpec } from './types.js';

export type AdapterEntry = { adapter: PluginAdapter<PluginSpec> } | { unavailable: string };

export const adapters: Readonly<Record<PluginKind, AdapterEntry>> = {
  module: { adapter: moduleAdapter as unknown as PluginAdapter<PluginSpec> },
  wasm: { adapter: wasmAdapter as unknown as PluginAdapter<PluginSpec> },
  python: { adapter: pythonAdapter as unknown as PluginAdapter<PluginSpec> },
  command: { adapter: commandAdapter as unknown as PluginAdapter<PluginSpec> },
  http: { adapter: httpAdapter as unknown as PluginAdapter<PluginSpec> },
};

export { pluginKinds, type PluginKind, type PluginSpec, type LoadedPlugin, type PluginAdapter, type AdapterContext } from './types.js';
