// The exhaustive table of plugin kinds and their adapters. A kind without an adapter
// yet is listed with the reason, so loading it fails with a clear message.
import { commandAdapter } from './command/index.js';
import { httpAdapter } from './http/index.js';
import { moduleAdapter } from './module/index.js';
import { pythonAdapter } from './python/index.js';
import type { PluginAdapter, PluginKind, PluginSpec } from './types.js';

export type AdapterEntry = { adapter: PluginAdapter<PluginSpec> } | { unavailable: string };

export const adapters: Readonly<Record<PluginKind, AdapterEntry>> = {
  module: { adapter: moduleAdapter as unknown as PluginAdapter<PluginSpec> },
  wasm: { unavailable: 'Wasm components (Asterai) are not supported by this version of toolport yet' },
  python: { adapter: pythonAdapter as unknown as PluginAdapter<PluginSpec> },
  command: { adapter: commandAdapter as unknown as PluginAdapter<PluginSpec> },
  http: { adapter: httpAdapter as unknown as PluginAdapter<PluginSpec> },
};

export { pluginKinds, type PluginKind, type PluginSpec, type LoadedPlugin, type PluginAdapter, type AdapterContext } from './types.js';
