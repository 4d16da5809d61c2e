// The call signal and the plugin lifecycle: one signal per call, made only when read; calls
// share one listener on long-lived signals; close() stops running calls through the handle
// the pipeline gives, or through a signal of the lifecycle's own for other callers.
import { spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { onAbort } from '../../src/core/abort.js';
import { createCallSignal, type CallSignal } from '../../src/core/call-signal.js';
import { ErrorCode, ToolportError } from '../../src/core/errors.js';
import { createPluginLifecycle } from '../../src/core/lifecycle.js';

const never = new Promise<never>(() => {});
const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Keeps this turn of the event loop busy until `ms` after `since`. */
const busyUntil = (since: number, ms: number): void => {
  while (performance.now() - since < ms);
};
/** Restarts `call` and checks that it then times out no sooner than `atLeastMs` later. */
async function timesOutAfterRestart(call: CallSignal, racing: Promise<unknown>, atLeastMs: number): Promise<void> {
  const restarted = performance.now();
  call.restart();
  await expect(racing).rejects.toMatchObject({ code: ErrorCode.CallTimeout });
  expect(performance.now() - restarted).toBeGreaterThanOrEqual(atLeastMs);
  call.dispose();
}

describe('the call signal', () => {
  it('ends a call whose work ignores it at the time limit, and a signal read afterwards is already aborted with that reason', async () => {
    const call = createCallSignal({ timeoutMs: 30, label: 'slow__tool' });
    try {
      await expect(call.race(never)).rejects.toMatchObject({ code: ErrorCode.CallTimeout });
      await expect(call.race(never)).rejects.toThrow('slow__tool timed out');
      expect(call.signal.aborted).toBe(true);
      expect((call.signal.reason as ToolportError).code).toBe(ErrorCode.CallTimeout);
    } finally {
      call.dispose();
    }
  });

  it('settles with the work when it ends first, and stop() fires a signal read before', async () => {
    const first = createCallSignal({ timeoutMs: 5_000, label: 'echo' });
    await expect(first.race(Promise.resolve('done'))).resolves.toBe('done');
    first.dispose();

    const second = createCallSignal({ timeoutMs: 5_000, label: 'echo' });
    const { signal } = second;
    const racing = second.race(never);
    second.stop(new ToolportError(ErrorCode.CallCancelled, 'stopped here'));
    await expect(racing).rejects.toThrow('stopped here');
    expect(signal.aborted).toBe(true);
    second.dispose();
  });

  it('onStop tells a listener once, with the reason (at once when already stopped), and off() keeps it from being told', () => {
    const call = createCallSignal({ timeoutMs: 5_000, label: 'echo' });
    const heard: string[] = [];
    call.onStop((reason) => heard.push(`first: ${reason.message}`));
    const off = call.onStop(() => heard.push('removed'));
    off();
    call.interrupt(new ToolportError(ErrorCode.CallCancelled, 'cancelled here'));
    call.interrupt(new ToolportError(ErrorCode.CallCancelled, 'again'));
    call.onStop((reason) => heard.push(`late: ${reason.message}`));
    expect(heard).toEqual(['first: cancelled here', 'late: cancelled here']);
    call.dispose();
  });

  it('calls share one listener on the shutdown and connection signals, removed per call, and all of them fire on shutdown', async () => {
    const shutdown = new AbortController();
    const connection = new AbortController();
    for (let index = 0; index < 200; index += 1) createCallSignal({ timeoutMs: 5_000, label: 'done', shutdown: shutdown.signal, connection: connection.signal }).dispose();
    const running = [1, 2, 3].map(() => createCallSignal({ timeoutMs: 5_000, label: 'busy', shutdown: shutdown.signal, connection: connection.signal }));
    const disposed = createCallSignal({ timeoutMs: 5_000, label: 'done', shutdown: shutdown.signal, connection: connection.signal });
    disposed.dispose();
    // Calls still running when their turn of the event loop ends are armed then.
    await endOfTurn();
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    expect(getEventListeners(connection.signal, 'abort')).toHaveLength(1);
    shutdown.abort();
    for (const call of running) {
      await expect(call.aborted).rejects.toMatchObject({ code: ErrorCode.ShuttingDown });
      call.dispose();
    }
    // A call that ended before is not told: its listener was removed.
    expect(disposed.signal.aborted).toBe(false);
  });

  it('arms nothing for a call that ends in the turn it started: no timer, no listener on the client\'s signal', async () => {
    const client = new AbortController();
    const timers = process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const call = createCallSignal({ timeoutMs: 5_000, label: 'echo', client: client.signal });
    expect(getEventListeners(client.signal, 'abort')).toHaveLength(0);
    expect(process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length).toBe(timers);
    await expect(call.race(Promise.resolve('done'))).resolves.toBe('done');
    call.dispose();
    await endOfTurn();
    expect(getEventListeners(client.signal, 'abort')).toHaveLength(0);
    expect(process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length).toBe(timers);
  });

  it('a call still running when its turn ends hears the client, and ends at its time limit', async () => {
    const client = new AbortController();
    const cancelled = createCallSignal({ timeoutMs: 5_000, label: 'slow', client: client.signal });
    const racing = cancelled.race(never);
    await endOfTurn();
    expect(getEventListeners(client.signal, 'abort')).toHaveLength(1);
    client.abort();
    await expect(racing).rejects.toMatchObject({ code: ErrorCode.CallCancelled });
    cancelled.dispose();
    expect(getEventListeners(client.signal, 'abort')).toHaveLength(0);

    // Cancelled before its turn ended: seen when it is armed.
    const early = new AbortController();
    const call = createCallSignal({ timeoutMs: 5_000, label: 'slow', client: early.signal });
    const waiting = call.race(never);
    early.abort();
    await expect(waiting).rejects.toThrow('slow was cancelled by the client');
    call.dispose();

    const started = performance.now();
    const timed = createCallSignal({ timeoutMs: 40, label: 'slow' });
    await expect(timed.race(never)).rejects.toMatchObject({ code: ErrorCode.CallTimeout });
    // Not before the limit (less the event loop's cached clock, which timers start from).
    expect(performance.now() - started).toBeGreaterThanOrEqual(30);
    timed.dispose();
  });

  it('a call held before it was armed gets no timer until restarted, and then the whole limit', async () => {
    const call = createCallSignal({ timeoutMs: 30, label: 'queued' });
    call.hold();
    const racing = call.race(never);
    let settled = false;
    racing.catch(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(settled).toBe(false);
    await timesOutAfterRestart(call, racing, 20);
  });

  it('counts the time limit from the start of the call, not from when it was armed', async () => {
    const started = performance.now();
    const call = createCallSignal({ timeoutMs: 200, label: 'busy' });
    // The turn the call started in stays busy for 150 ms before the call waits on anything.
    busyUntil(started, 150);
    await expect(call.race(never)).rejects.toMatchObject({ code: ErrorCode.CallTimeout });
    expect(performance.now() - started).toBeLessThan(340);
    call.dispose();
  });

  it('says the server is shutting down when shutdown and the client both fired before the call was armed', async () => {
    const shutdown = new AbortController();
    const client = new AbortController();
    const call = createCallSignal({ timeoutMs: 5_000, label: 'busy', shutdown: shutdown.signal, client: client.signal });
    const racing = call.race(never);
    shutdown.abort();
    client.abort();
    await expect(racing).rejects.toMatchObject({ code: ErrorCode.ShuttingDown });
    call.dispose();
  });

  it('still arms calls after a test made one under fake timers and went back to real ones', async () => {
    vi.useFakeTimers();
    const underFake = createCallSignal({ timeoutMs: 5_000, label: 'faked' });
    vi.useRealTimers();
    const call = createCallSignal({ timeoutMs: 30, label: 'after' });
    await expect(call.race(never)).rejects.toMatchObject({ code: ErrorCode.CallTimeout });
    call.dispose();
    underFake.dispose();
  });

  it('a restart after the call was armed gives the whole limit again, not what was left of it', async () => {
    const started = performance.now();
    const call = createCallSignal({ timeoutMs: 100, label: 'queued' });
    busyUntil(started, 70);
    const racing = call.race(never);
    await endOfTurn();
    await timesOutAfterRestart(call, racing, 70);
  });

  it('says the server is shutting down when shutdown and the client had both fired before the call began', async () => {
    const shutdown = new AbortController();
    const client = new AbortController();
    shutdown.abort();
    client.abort();
    const call = createCallSignal({ timeoutMs: 5_000, label: 'late', shutdown: shutdown.signal, client: client.signal });
    await expect(call.race(never)).rejects.toMatchObject({ code: ErrorCode.ShuttingDown });
    call.dispose();
  });

  it('ends a call whose stop listener throws, and still tells its other listeners (in a process of its own: the throw is reported as uncaught)', async () => {
    const script = `
      import { createCallSignal } from ${JSON.stringify(new URL('../../dist/core/call-signal.js', import.meta.url).href)};
      const uncaught = [];
      // The call's timer does not keep a process alive on its own.
      setInterval(() => {}, 1000);
      process.on('uncaughtException', (error) => uncaught.push(error.message));
      const call = createCallSignal({ timeoutMs: 50, label: 'guarded' });
      const heard = [];
      call.onStop(() => { throw new Error('a listener throws'); });
      call.onStop((reason) => heard.push(reason.code));
      const ended = await call.race(new Promise(() => {})).then(() => 'answered', (error) => error.code);
      await new Promise((resolve) => setTimeout(resolve, 20));
      console.log(JSON.stringify({ ended, heard, uncaught }));
      process.exit(0);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], timeout: 10_000, killSignal: 'SIGKILL' });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    await new Promise((resolve) => child.once('close', resolve));
    expect(JSON.parse(out)).toEqual({ ended: ErrorCode.CallTimeout, heard: [ErrorCode.CallTimeout], uncaught: ['a listener throws'] });
  });

  it('onAbort calls each listener still registered, not one removed before, and at once on a signal that already fired', () => {
    const source = new AbortController();
    const heard: string[] = [];
    onAbort(source.signal, () => heard.push('a'));
    const off = onAbort(source.signal, () => heard.push('b'));
    onAbort(source.signal, () => heard.push('c'));
    off();
    source.abort();
    expect(heard).toEqual(['a', 'c']);
    onAbort(source.signal, () => heard.push('late'));
    expect(heard).toEqual(['a', 'c', 'late']);
  });

  it('interrupt() fires a signal the work reads but leaves the call to end with the work\'s answer', async () => {
    const call = createCallSignal({ timeoutMs: 5_000, label: 'shop__order' });
    let answer: (value: string) => void = () => {};
    const racing = call.race(new Promise<string>((resolve) => (answer = resolve)));
    call.interrupt(new ToolportError(ErrorCode.ShuttingDown, 'closing'));
    expect(call.signal.aborted).toBe(true);
    answer('stopped, with its report');
    await expect(racing).resolves.toBe('stopped, with its report');
    call.dispose();
  });
});

describe('the plugin lifecycle', () => {
  it('close() stops a running call through the handle the caller gave, without a second signal', async () => {
    const lifecycle = createPluginLifecycle('shop', { settleMs: 1_000 });
    const call = createCallSignal({ timeoutMs: 5_000, label: 'shop__order' });
    let seen: AbortSignal | undefined;
    const running = call.race(
      lifecycle.run('shop__order', { get signal() { return call.signal; }, interrupt: (reason) => call.interrupt(reason) }, (given) => {
        seen = given.signal;
        return new Promise((_, reject) => given.signal.addEventListener('abort', () => reject(given.signal.reason as Error)));
      }),
    );
    await lifecycle.close();
    await expect(running).rejects.toMatchObject({ code: ErrorCode.ShuttingDown });
    expect(seen).toBe(call.signal);
    call.dispose();
    await expect(lifecycle.run('shop__order', { signal: new AbortController().signal }, () => Promise.resolve(1))).rejects.toMatchObject({ code: ErrorCode.ShuttingDown });
  });

  it('without a handle, the work gets a signal of the lifecycle that fires on the caller\'s signal and on close', async () => {
    const lifecycle = createPluginLifecycle('shop', { settleMs: 1_000 });
    const caller = new AbortController();
    const waitForAbort = (given: { signal: AbortSignal }): Promise<never> => new Promise((_, reject) => given.signal.addEventListener('abort', () => reject(given.signal.reason as Error)));
    const cancelled = lifecycle.run('a', { signal: caller.signal }, waitForAbort);
    caller.abort(new Error('the client cancelled'));
    await expect(cancelled).rejects.toThrow('the client cancelled');
    const closing = lifecycle.run('b', { signal: new AbortController().signal }, waitForAbort);
    await lifecycle.close();
    await expect(closing).rejects.toMatchObject({ code: ErrorCode.ShuttingDown });
  });
});
