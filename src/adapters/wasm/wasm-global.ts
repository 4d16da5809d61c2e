// Node's WebAssembly global, typed here: the project compiles against the ES2023 libs
// without DOM, which declare no WebAssembly at all.

/** A compiled core module (a WebAssembly.Module): opaque, and it can be posted to workers. */
export interface CompiledModule {
  readonly __compiledModule?: never;
}

interface WebAssemblyGlobal {
  compile(bytes: Uint8Array): Promise<CompiledModule>;
  RuntimeError: new () => Error;
}

export const wasmRuntime = (globalThis as unknown as { WebAssembly: WebAssemblyGlobal }).WebAssembly;
