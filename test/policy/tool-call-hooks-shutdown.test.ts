// The tool_call handlers and the shutdown: a call stopped before its hooks does not ask them,
// and one stopped while they run ends at once, without an unhandled rejection from a handler
// that answers later.
import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/core/logger.js';
import { createSecretSet } from '../../src/core/redact.js';
import { startCall, type ToolCall } from '../../src/pipeline/call.js';
import { runToolCallHooks } from '../../src/pipeline/run-hooks.js';
import { createHookBus } from '../../src/policy/hooks.js';

function callFor(name: string): ToolCall {
  // What the hooks read of a call: its name, event base, arguments and digest.
  return Object.assign(startCall(name, {}, {}), { input: {} }) as unknown as ToolCall;
}

describe('runToolCallHooks and the shutdown', () => {
  it('a call stopped before its hooks ran does not ask them', async () => {
    const hooks = createHookBus({ logger: createSilentLogger(), secrets: createSecretSet() });
    let asked = 0;
    hooks.on('tool_call', () => {
      asked += 1;
      return new Error('blocked');
    });
    await expect(runToolCallHooks(callFor('x__y'), hooks, AbortSignal.abort())).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(asked).toBe(0);
  });

  it("a shutdown while a handler runs ends the call at once; the handler's late refusal is not unhandled", async () => {
    const hooks = createHookBus({ logger: createSilentLogger(), secrets: createSecretSet() });
    hooks.on('tool_call', () => new Promise<Error>((resolve) => setTimeout(() => resolve(new Error('blocked late')), 200)), { timeoutMs: 2000 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const shutdown = new AbortController();
      const running = runToolCallHooks(callFor('x__y'), hooks, shutdown.signal);
      setTimeout(() => shutdown.abort(), 20);
      const started = performance.now();
      await expect(running).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
      expect(performance.now() - started).toBeLessThan(150);
      // The handler answers after the race was lost.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
