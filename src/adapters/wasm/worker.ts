// The plugin worker: one instance of a transpiled component, its sandboxed WASI and the
// Asterai host API, answering one call at a time. A trap poisons a component instance,
// so after one the worker instantiates afresh before the next call.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { createHostImports, type CallContextForGuest, type HostReply, type HostRequest, type HostState } from './host-api.js';
import { createSandboxImports, type SandboxOptions } from './sandbox.js';
import { fromGuestValue, toCamelCase, toGuestValue } from './values.js';
import { wasmRuntime, type CompiledModule } from './wasm-global.js';
import type { WitFunction } from './wit-types.js';

export interface WorkerExport {
  /** The tool name. */
  tool: string;
  /** The exported interface's full name, or undefined at world level. */
  interface?: string;
  func: WitFunction;
}

export interface WorkerInit {
  /** The transpiled component's entry module (a path in the cache). */
  entry: string;
  /** Compiled core modules by file name, their memory already capped. */
  modules: Record<string, CompiledModule>;
  exports: WorkerExport[];
  sandbox: SandboxOptions;
  host: { env: Record<string, string> };
  rpc: { port: MessagePort; signal: SharedArrayBuffer };
}

export type WorkerRequest = { type: 'call'; id: number; tool: string; args: Record<string, unknown>; context: CallContextForGuest };

export type CallReply =
  | { kind: 'ok'; value: unknown; response: string | undefined }
  | { kind: 'err'; value: unknown; response: string | undefined }
  | { kind: 'trap'; message: string; response: string | undefined };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'refused' }
  | { type: 'reply'; id: number; reply: CallReply };

type Instance = Record<string, unknown>;
type InstantiateFn = (
  getCoreModule: (name: string) => CompiledModule,
  imports: Record<string, unknown>,
) => Promise<Instance>;

const init = workerData as WorkerInit;
const port = parentPort as NonNullable<typeof parentPort>;
const signal = new Int32Array(init.rpc.signal);

/** A synchronous request to the main thread: the guest is blocked in a host call meanwhile. */
function requestMain(message: HostRequest): HostReply {
  Atomics.store(signal, 0, 0);
  init.rpc.port.postMessage(message);
  Atomics.wait(signal, 0, 0);
  const received = receiveMessageOnPort(init.rpc.port);
  if (!received) return { ok: false, error: 'toolport did not answer a host call', fatal: true };
  return received.message as HostReply;
}

const state: HostState = { response: undefined, context: undefined, args: undefined };
const hostImports = createHostImports(state, init.host.env, requestMain);

function isComponentError(error: unknown): error is Error & { payload: unknown } {
  return error instanceof Error && error.constructor.name === 'ComponentError' && 'payload' in error;
}

function describeTrap(error: unknown): string {
  if (error instanceof wasmRuntime.RuntimeError) return error.message || 'RuntimeError';
  if (error instanceof Error) return `${error.name}: ${error.message}`.split('\n')[0] ?? error.name;
  return String(error);
}

async function instantiate(): Promise<Instance> {
  const module = (await import(pathToFileURL(init.entry).href)) as { instantiate: InstantiateFn };
  const imports: Record<string, unknown> = {
    ...createSandboxImports(init.sandbox, () => port.postMessage({ type: 'refused' } satisfies WorkerMessage)),
    'asterai:host/api': hostImports,
  };
  return module.instantiate((name) => {
    const compiled = init.modules[name];
    if (!compiled) throw new Error(`core module ${name} is missing`);
    return compiled;
  }, imports);
}

function findFunction(instance: Instance, spec: WorkerExport): ((...args: unknown[]) => unknown) | undefined {
  const owner = spec.interface === undefined ? instance : (instance[spec.interface] as Instance | undefined);
  const fn = owner?.[toCamelCase(spec.func.name)];
  return typeof fn === 'function' ? (fn as (...args: unknown[]) => unknown) : undefined;
}

let current: Promise<Instance> = instantiate();
// A failed instantiation is reported to the main thread (below) or to the next call.
current.catch(() => {});
/** The instance once it is ready: calls then run without waiting a turn. */
let ready: Instance | undefined;
const exportsByTool = new Map(init.exports.map((spec) => [spec.tool, spec]));

function runCall(instance: Instance, request: WorkerRequest): CallReply {
  const spec = exportsByTool.get(request.tool);
  const fn = spec && findFunction(instance, spec);
  if (!spec || !fn) return { kind: 'trap', message: `the component has no function for ${request.tool}`, response: undefined };
  const { func } = spec;
  state.response = undefined;
  state.context = request.context;
  state.args = request.args;
  try {
    const args = func.params.map((param) => toGuestValue(param.type, request.args[param.name]));
    const raw = fn(...args);
    const success = func.result?.kind === 'result' ? func.result.ok : func.result;
    const value = success ? fromGuestValue(success, raw) : undefined;
    return { kind: 'ok', value, response: state.response };
  } catch (error) {
    if (func.result?.kind === 'result' && isComponentError(error)) {
      const errType = func.result.err;
      return { kind: 'err', value: errType ? fromGuestValue(errType, error.payload) : null, response: state.response };
    }
    return { kind: 'trap', message: describeTrap(error), response: state.response };
  } finally {
    state.context = undefined;
    state.args = undefined;
  }
}

current.then(
  (instance) => {
    ready = instance;
    port.postMessage({ type: 'ready' } satisfies WorkerMessage);
  },
  (error: unknown) => port.postMessage({ type: 'failed', message: describeTrap(error) } satisfies WorkerMessage),
);

function answer(request: WorkerRequest, reply: CallReply): void {
  port.postMessage({ type: 'reply', id: request.id, reply } satisfies WorkerMessage);
  // A trap (or any throw) leaves the instance unusable; start a fresh one now.
  if (reply.kind === 'trap') {
    ready = undefined;
    current = instantiate();
    current.then(
      (instance) => {
        ready = instance;
      },
      () => {},
    );
  }
}

port.on('message', (request: WorkerRequest) => {
  if (ready) {
    answer(request, runCall(ready, request));
    return;
  }
  current.then(
    (instance) => answer(request, runCall(instance, request)),
    (error: unknown) => answer(request, { kind: 'trap', message: describeTrap(error), response: undefined }),
  );
});
