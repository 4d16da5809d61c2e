// The main-thread side of a plugin's workers: starts them lazily, queues calls (a Wasm
// instance runs one call at a time), terminates a worker whose call was aborted (timeout,
// cancellation, shutdown) and serves the synchronous host calls its guest makes. Guest
// stdout and stderr are captured here and go to the log, never to the process's stdout.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { ErrorCode, ToolportError, describeThrown } from '../../core/errors.js';
import { createLineSplitter } from '../../core/line-splitter.js';
import type { Logger } from '../../core/logger.js';
import type { OnStop } from '../../core/tool.js';
import type { CallContextForGuest, HostReply, HostRequest } from './host-api.js';
import type { CallReply, WorkerInit, WorkerMessage, WorkerRequest } from './worker.js';
import { workerEntry } from './worker-entry.js';

export interface RunnerOptions {
  pluginId: string;
  logger: Logger;
  /** At most this many instances (workers) run calls at the same time. */
  instances: number;
  /** Everything a worker needs but the RPC channel; made once, on first use. */
  prepare: () => Promise<Omit<WorkerInit, 'rpc'>>;
  /** Answers the guest's host calls that need the main thread. */
  serve: (request: HostRequest) => Promise<HostReply>;
  /** JS heap limit of a worker (Wasm memory is capped separately). */
  heapLimitMb: number;
  /** The sandbox refused the guest something (a write to a read-only folder, outgoing HTTP). */
  onRefusal?: () => void;
}

export interface RunRequest {
  tool: string;
  args: Record<string, unknown>;
  context: CallContextForGuest;
}

/** How a run hears that its call was stopped: the pipeline's hook when there is one, else the signal. */
export interface RunStop {
  readonly signal: AbortSignal;
  readonly onStop?: OnStop | undefined;
}

export interface Runner {
  run(request: RunRequest, stop: RunStop): Promise<CallReply>;
  close(): Promise<void>;
}

interface Pending {
  request: RunRequest;
  /** Why the call was stopped, once it was. */
  reason: () => unknown;
  resolve: (reply: CallReply) => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
}

interface Slot {
  worker: Worker;
  state: 'starting' | 'idle' | 'busy' | 'gone';
  current?: { id: number; pending: Pending };
  rpc: MessagePort;
  exited: Promise<void>;
}

const maxLogLine = 2000;

export function createRunner(options: RunnerOptions): Runner {
  const { logger, pluginId } = options;
  const slots = new Set<Slot>();
  const queue: Pending[] = [];
  let prepared: Promise<Omit<WorkerInit, 'rpc'>> | undefined;
  let nextId = 1;
  let closed = false;

  const crashed = (message: string, cause?: unknown): ToolportError =>
    new ToolportError(ErrorCode.PluginCrashed, message, { pluginId, cause });

  function pipeLines(stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): void {
    const emit = (line: string): void => {
      if (line.length === 0) return;
      const text = line.length > maxLogLine ? `${line.slice(0, maxLogLine)}… (${line.length} chars)` : line;
      logger.info({ stream: name }, text);
    };
    const lines = createLineSplitter(emit);
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => lines.push(chunk));
    stream.on('end', () => lines.end());
  }

  async function spawn(): Promise<void> {
    prepared ??= options.prepare();
    let init: Omit<WorkerInit, 'rpc'>;
    try {
      init = await prepared;
    } catch (error) {
      prepared = undefined;
      failQueue(crashed(`${pluginId} could not be prepared to run: ${describeThrown(error).slice(0, 300)}`, error));
      return;
    }
    if (closed) return;
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    const flag = new Int32Array(signal);
    let entry: URL;
    try {
      entry = await workerEntry('worker');
    } catch (error) {
      failQueue(crashed(`${pluginId} could not start: ${describeThrown(error).slice(0, 300)}`, error));
      return;
    }
    if (closed) return;
    const worker = new Worker(entry, {
      workerData: { ...init, rpc: { port: port2, signal } } satisfies WorkerInit,
      transferList: [port2],
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: options.heapLimitMb },
    });
    const slot: Slot = {
      worker,
      state: 'starting',
      rpc: port1,
      exited: new Promise((resolve) => worker.once('exit', () => resolve())),
    };
    slots.add(slot);
    pipeLines(worker.stdout, 'stdout');
    pipeLines(worker.stderr, 'stderr');

    port1.on('message', (request: HostRequest) => {
      void options
        .serve(request)
        .catch((error: unknown): HostReply => ({ ok: false, error: describeThrown(error), fatal: true }))
        .then((reply) => {
          port1.postMessage(reply);
          Atomics.store(flag, 0, 1);
          Atomics.notify(flag, 0);
        });
    });
    port1.unref();

    let startFailure: string | undefined;
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') {
        slot.state = 'idle';
        worker.unref();
        dispatch();
      } else if (message.type === 'failed') {
        startFailure = message.message;
        void worker.terminate();
      } else if (message.type === 'refused') {
        options.onRefusal?.();
      } else if (message.type === 'reply' && slot.current?.id === message.id) {
        const { pending } = slot.current;
        slot.current = undefined;
        slot.state = 'idle';
        worker.unref();
        pending.cleanup();
        pending.resolve(message.reply);
        dispatch();
      }
    });
    worker.on('error', (error) => {
      startFailure ??= describeThrown(error);
      logger.error({ err: error }, 'plugin worker failed');
    });
    worker.once('exit', (code) => {
      const wasStarting = slot.state === 'starting';
      slot.state = 'gone';
      slots.delete(slot);
      port1.close();
      if (slot.current) {
        const { pending } = slot.current;
        slot.current = undefined;
        pending.cleanup();
        pending.reject(crashed(`${pluginId} stopped while running ${pending.request.tool} (worker exit code ${code})`));
      }
      if (wasStarting && !closed) {
        const why = startFailure ?? `the worker exited with code ${code}`;
        logger.error(`plugin could not start: ${why}`);
        failQueue(crashed(`${pluginId} could not start: ${why.slice(0, 300)}`));
        return;
      }
      if (!closed) dispatch();
    });
  }

  function failQueue(error: ToolportError): void {
    for (const pending of queue.splice(0)) {
      pending.cleanup();
      pending.reject(error);
    }
  }

  function dispatch(): void {
    if (closed) return;
    while (queue.length > 0) {
      let slot: Slot | undefined;
      for (const candidate of slots) {
        if (candidate.state === 'idle') {
          slot = candidate;
          break;
        }
      }
      if (!slot) break;
      const pending = queue.shift() as Pending;
      const id = nextId++;
      slot.state = 'busy';
      slot.current = { id, pending };
      slot.worker.ref();
      const message: WorkerRequest = { type: 'call', id, ...pending.request };
      slot.worker.postMessage(message);
    }
    if (queue.length === 0) return;
    let starting = 0;
    for (const slot of slots) if (slot.state === 'starting') starting++;
    if (queue.length > starting && slots.size < options.instances) void spawn();
  }

  function abort(pending: Pending): void {
    const index = queue.indexOf(pending);
    if (index !== -1) {
      queue.splice(index, 1);
    } else {
      for (const slot of slots) {
        if (slot.current?.pending !== pending) continue;
        // The guest cannot be interrupted any other way: stop its thread.
        slot.current = undefined;
        slot.state = 'gone';
        slots.delete(slot);
        logger.debug({ tool: pending.request.tool }, 'terminating the plugin worker of an aborted call');
        void slot.worker.terminate();
      }
    }
    pending.cleanup();
    pending.reject(pending.reason());
    dispatch();
  }

  return {
    run(request, stop) {
      if (closed) return Promise.reject(new ToolportError(ErrorCode.ShuttingDown, `${pluginId} is closed`, { pluginId }));
      return new Promise<CallReply>((resolve, reject) => {
        let stopped: { reason: Error } | undefined;
        let queued = false;
        const pending: Pending = { request, reason: () => stopped?.reason, resolve, reject, cleanup: () => {} };
        const onStopped = (reason: unknown): void => {
          stopped = { reason: reason instanceof Error ? reason : new Error(String(reason)) };
          if (queued) abort(pending);
        };
        if (stop.onStop) {
          // Told by the call itself: no AbortSignal is made for it (the common case, through the pipeline).
          pending.cleanup = stop.onStop(onStopped);
        } else {
          const { signal } = stop;
          const onAbort = (): void => onStopped(signal.reason);
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
          pending.cleanup = () => signal.removeEventListener('abort', onAbort);
        }
        if (stopped) {
          pending.cleanup();
          reject(stopped.reason);
          return;
        }
        queued = true;
        queue.push(pending);
        dispatch();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      const stopping = new ToolportError(ErrorCode.ShuttingDown, `${pluginId} was stopped: the server is shutting down`, { pluginId });
      failQueue(stopping);
      const all = [...slots];
      for (const slot of all) {
        if (slot.current) {
          slot.current.pending.cleanup();
          slot.current.pending.reject(stopping);
          slot.current = undefined;
        }
      }
      await Promise.all(all.map(async (slot) => {
        await slot.worker.terminate();
        await slot.exited;
      }));
      slots.clear();
    },
  };
}
