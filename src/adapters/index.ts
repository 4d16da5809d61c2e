// The exhaustive table of plugin kinds and their adapters. Each adapter is imported only
// when a plugin of its kind is configured, so start-up pays only for the kinds in use.
import type { PluginAdapter, PluginKind, PluginSpec } from './types.js';

export type AdapterEntry = { load: () => Promise<PluginAdapter<PluginSpec>> } | { unavailable: string };

const as = (adapter: unknown): PluginAdapter<PluginSpec> => adapter as PluginAdapter<PluginSpec>;

export const adapters: Readonly<Record<PluginKind, AdapterEntry>> = {
  module: { load: async () => as((await import('./module/index.js')).moduleAdapter) },
  wasm: { load: async () => as((await import('./wasm/index.js')).wasmAdapter) },
  python: { load: async () => as((await import('./python/index.js')).pythonAdapter) },
  command: { load: async () => as((await import('./command/index.js')).commandAdapter) },
  http: { load: async () => as((await import('./http/index.js')).httpAdapter) },
};

export { pluginKinds, type PluginKind, type PluginSpec, type LoadedPlugin, type PluginAdapter, type AdapterContext } from './types.js';
