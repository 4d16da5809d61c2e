// One AbortSignal per call that fires on client cancellation, the call's time limit
// or shutdown, and says which of them it was. Listeners are removed when the call ends,
// so long-lived signals (shutdown) do not collect one listener per call.
import { ErrorCode, ToolportError } from './errors.js';

export interface CallSignal {
  readonly signal: AbortSignal;
  /** Resolves never; rejects with a ToolportError when the signal fires (after `graceMs`). */
  readonly aborted: Promise<never>;
  /** Stops the clock of the time limit (the call waits in a plugin's queue). */
  readonly hold: () => void;
  /** Starts the time limit again from now, whole (unless the signal already fired). */
  readonly restart: () => void;
  /** Fires the signal now with `error` (the caller ends the call itself). */
  readonly stop: (error: ToolportError) => void;
  dispose(): void;
}

export interface CallSignalOptions {
  client?: AbortSignal | undefined;
  /** The connection's stop signal; fires the call as the client's cancellation does. */
  connection?: AbortSignal | undefined;
  shutdown?: AbortSignal | undefined;
  timeoutMs: number;
  /** How long after the deadline passed `aborted` waits before it rejects (the work may still report). Default 0. */
  graceMs?: number;
  /** Names the call in messages: the exposed tool name. */
  label: string;
  /** Replaces the default `<label> timed out after N s` message. */
  timeoutMessage?: string;
  pluginId?: string;
}

export function createCallSignal(options: CallSignalOptions): CallSignal {
  const controller = new AbortController();
  let rejectAborted: (error: ToolportError) => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    rejectAborted = reject;
  });
  // Nobody may be listening when the call ends normally; never report that as unhandled.
  aborted.catch(() => {});

  let graceTimer: NodeJS.Timeout | undefined;
  const fire = (error: ToolportError): void => {
    if (controller.signal.aborted) return;
    controller.abort(error);
    // Past its deadline, the work may still report how it ended (a process stopped with SIGTERM).
    if (options.graceMs && error.code === ErrorCode.CallTimeout) graceTimer = setTimeout(() => rejectAborted(error), options.graceMs);
    else rejectAborted(error);
  };
  const seconds = Math.round(options.timeoutMs / 100) / 10;
  const onTimeout = (): void =>
    fire(
      new ToolportError(ErrorCode.CallTimeout, options.timeoutMessage ?? `${options.label} timed out after ${seconds} s`, {
        pluginId: options.pluginId,
      }),
    );
  const onClient = (): void =>
    fire(new ToolportError(ErrorCode.CallCancelled, `${options.label} was cancelled by the client`, { pluginId: options.pluginId }));
  const onShutdown = (): void =>
    fire(new ToolportError(ErrorCode.ShuttingDown, `${options.label} was stopped: the server is shutting down`, { pluginId: options.pluginId }));

  let timer: NodeJS.Timeout | undefined = setTimeout(onTimeout, options.timeoutMs);
  timer.unref();
  if (options.client?.aborted || options.connection?.aborted) onClient();
  else {
    options.client?.addEventListener('abort', onClient, { once: true });
    options.connection?.addEventListener('abort', onClient, { once: true });
  }
  if (options.shutdown?.aborted) onShutdown();
  else options.shutdown?.addEventListener('abort', onShutdown, { once: true });

  return {
    signal: controller.signal,
    aborted,
    stop: fire,
    hold: () => {
      clearTimeout(timer);
      timer = undefined;
    },
    restart: () => {
      if (controller.signal.aborted) return;
      if (timer) timer.refresh();
      else (timer = setTimeout(onTimeout, options.timeoutMs)).unref();
    },
    dispose() {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      options.client?.removeEventListener('abort', onClient);
      options.connection?.removeEventListener('abort', onClient);
      options.shutdown?.removeEventListener('abort', onShutdown);
    },
  };
}
