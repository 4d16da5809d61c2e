// The exhaustive table of plugin kinds and their adapters. A kind without an adapter
// yet is listed with the reason, so loading it fails with a clear message.
import { moduleAdapter } from './module/index.js';
import { wasmAdapter } from './wasm/index.js';
import type { PluginAdapter, PluginKind, PluginSpec } from './types.js';

export type AdapterEntry = { adapter: PluginAdapter<PluginSpec> } | { unavailable: string };

export const adapters: Readonly<Record<PluginKind, AdapterEntry>> = {
  module: { adapter: moduleAdapter as unknown as PluginAdapter<PluginSpec> },
  wasm: { adapter: wasmAdapter as unknown as PluginAdapter<PluginSpec> },
  python: { unavailable: 'Python plugins (ScaiWave) are not supported by this version of toolport yet' },
  command: { unavailable: 'agent.toml skills (EvoClaw) are not supported by this version of toolport yet' },
  http: { unavailable: 'HTTP plugin manifests (Carter) are not supported by this version of toolport yet' },
};

export { pluginKinds, type PluginKind, type PluginSpec, type LoadedPlugin, type PluginAdapter, type AdapterContext } from './types.js';
