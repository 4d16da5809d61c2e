// The exhaustive table of plugin kinds: each kind's config block (cheap: zod only) and its
// adapter, imported only when a plugin of its kind is configured, so start-up pays only for
// the kinds in use.
import type { z } from 'zod';
import type { PluginAdapter, PluginKind, PluginSpec } from '../core/plugin.js';
import { commandSpecSchema, type CommandSpec } from './command/spec.js';
import { httpSpecSchema, type HttpSpec } from './http/spec.js';
import { moduleSpecSchema, type ModuleSpec } from './module/spec.js';
import { pythonSpecSchema, type PythonSpec } from './python/spec.js';
import { wasmSpecSchema, type WasmSpec } from './wasm/spec.js';

/** A plugin block validated by its kind's spec. */
export type AnyPluginSpec = ModuleSpec | WasmSpec | PythonSpec | CommandSpec | HttpSpec;

export interface AdapterEntry {
  /** The kind's config block, including the base keys (a strict object: no other keys). */
  readonly spec: z.ZodObject<z.core.$ZodShape, z.core.$strict>;
  readonly load: () => Promise<PluginAdapter<PluginSpec>>;
  /**
   * Imported before the other kinds' adapters, which wait for it: its plugins start a process
   * at load whose start is the longest part of a cold start (the Python host).
   */
  readonly first?: true;
}

const as = (adapter: unknown): PluginAdapter<PluginSpec> => adapter as PluginAdapter<PluginSpec>;

export const adapters: Readonly<Record<PluginKind, AdapterEntry>> = {
  module: { spec: moduleSpecSchema, load: async () => as((await import('./module/index.js')).moduleAdapter) },
  wasm: { spec: wasmSpecSchema, load: async () => as((await import('./wasm/index.js')).wasmAdapter) },
  python: { spec: pythonSpecSchema, load: async () => as((await import('./python/index.js')).pythonAdapter), first: true },
  command: { spec: commandSpecSchema, load: async () => as((await import('./command/index.js')).commandAdapter) },
  http: { spec: httpSpecSchema, load: async () => as((await import('./http/index.js')).httpAdapter) },
};

/** The secret values a plugin block holds, by kind: never logged, never in an audit record. */
export function secretsOf(spec: AnyPluginSpec, env: Readonly<Record<string, string | undefined>>): (string | undefined)[] {
  const granted = spec.grants.env.map((name) => env[name]);
  switch (spec.kind) {
    case 'http':
      return [...granted, spec.secretToken, spec.relationshipToken];
    case 'python':
      return [...granted, spec.userToken];
    default:
      return granted;
  }
}

export { pluginKinds, type PluginKind, type PluginSpec, type LoadedPlugin, type PluginAdapter, type AdapterContext } from '../core/plugin.js';
