// The `wasm` kind: an Asterai plugin (a Wasm component importing asterai:host/api@0.1.0)
// served as MCP tools, transpiled with jco (cached) and run in sandboxed worker threads.
import { defineAdapter } from '../../core/plugin.js';
import { loadWasmPlugin } from './wasm-plugin.js';
import { wasmSpecSchema, type WasmSpec } from './spec.js';

export const wasmAdapter = defineAdapter<WasmSpec>({ kind: 'wasm', spec: wasmSpecSchema, load: loadWasmPlugin });

export type { WasmSpec } from './spec.js';
