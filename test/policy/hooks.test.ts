// The hook API in-process (createToolport → on, registerTool): tool_call handlers that block,
// crash, time out or run in order; tool_result handlers that redact, truncate or fail (the
// result is withheld); frozen arguments; observational events; registered tools.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ErrorCode, ToolportError } from '../../src/core/errors.js';
import type { HookEvent, ToolCallEvent } from '../../src/policy/hooks.js';
import { createToolport, type Toolport } from '../../src/toolport.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { readLines } from '../helpers/toolport-process.js';

const kitchen = fileURLToPath(new URL('../fixtures/hooks/kitchen.mjs', import.meta.url));

const dir = useTempDir('toolport-hooks-', 'all');
let ledger: string;
let toolport: Toolport | undefined;

beforeAll(() => {
  ledger = join(dir.path, 'ledger.txt');
});

afterEach(async () => {
  await toolport?.close();
  toolport = undefined;
});

async function open(extra: Record<string, unknown> = {}): Promise<Toolport> {
  // These tests are not about approvals: the kitchen's tools run without asking.
  const policy = { unknownSideEffects: 'allow', ...(extra.policy as Record<string, unknown> | undefined) };
  toolport = await createToolport(parseConfig({ plugins: [{ path: kitchen, settings: { ledger } }], ...extra, policy }, { env: {} }));
  return toolport;
}

const ledgerLines = (): Promise<string[]> => readLines(ledger);

const textOf = (outcome: { content: { type: string; text?: string }[] }): string => outcome.content.map((block) => block.text ?? '').join('\n');

/** The message the model would see for a call that failed. */
async function refusal(call: Promise<unknown>): Promise<{ code: string; text: string }> {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ToolportError)) throw new Error(`expected a ToolportError, got ${String(error)}`);
  return { code: error.code, text: error.shortMessage };
}

describe('tool_call hooks', () => {
  it('a handler that throws blocks the call before the plugin runs, and the model sees its message', async () => {
    const tp = await open();
    tp.on('tool_call', (event) => {
      if (event.arguments.item === 'fugu') throw new Error('fugu needs a licensed chef');
    });
    const before = await ledgerLines();
    const { code, text } = await refusal(tp.call('kitchen__order', { item: 'fugu' }));
    expect(code).toBe(ErrorCode.CallBlocked);
    expect(text).toMatch(/^kitchen__order was blocked by hook .*: fugu needs a licensed chef$/);
    expect(await ledgerLines()).toEqual(before);
    // Other calls go through.
    expect(textOf(await tp.call('kitchen__order', { item: 'ramen' }))).toBe('ordered ramen');
    expect(await ledgerLines()).toHaveLength(before.length + 1);
  });

  it('returning an Error blocks too (EvoClaw: return an error to block)', async () => {
    const tp = await open();
    tp.on('tool_call', () => new Error('kitchen closed'), { name: 'closing-time' });
    const { text } = await refusal(tp.call('kitchen__order', { item: 'tea' }));
    expect(text).toBe('kitchen__order was blocked by hook closing-time: kitchen closed');
  });

  it('a handler that crashes blocks (fail closed), and says what went wrong', async () => {
    const tp = await open();
    const before = await ledgerLines();
    const crashes: [string, () => unknown, RegExp][] = [
      ['buggy', () => (({}) as { nested: { x: number } }).nested.x, /^kitchen__order was blocked by hook buggy: TypeError: /],
      ['async-bug', () => Promise.reject(new RangeError('out of range')), /^kitchen__order was blocked by hook async-bug: RangeError: out of range$/],
      ['thrower', () => { throw 'a string'; }, /^kitchen__order was blocked by hook thrower: a string$/], // eslint-disable-line @typescript-eslint/only-throw-error
    ];
    for (const [name, handler, expected] of crashes) {
      const off = tp.on('tool_call', handler as () => undefined, { name });
      const { code, text } = await refusal(tp.call('kitchen__order', { item: 'soup' }));
      expect(code).toBe(ErrorCode.CallBlocked);
      expect(text).toMatch(expected);
      off();
    }
    expect(await ledgerLines()).toEqual(before);
  });

  it('a handler that does not answer in time blocks, and its signal is aborted', async () => {
    const tp = await open();
    let aborted = false;
    tp.on(
      'tool_call',
      (_event, { signal }) =>
        new Promise<undefined>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve(undefined);
          });
        }),
      { name: 'slowpoke', timeoutMs: 200 },
    );
    const before = await ledgerLines();
    const started = performance.now();
    const { text } = await refusal(tp.call('kitchen__order', { item: 'stew' }));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(text).toBe('kitchen__order was blocked by hook slowpoke: did not finish within 0.2 s');
    expect(aborted).toBe(true);
    expect(await ledgerLines()).toEqual(before);
  });

  it('handlers run in registration order; the first that blocks stops the rest', async () => {
    const tp = await open();
    const seen: string[] = [];
    tp.on('tool_call', () => void seen.push('first'));
    tp.on('tool_call', async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      seen.push('second');
      return new Error('second says no');
    });
    tp.on('tool_call', () => void seen.push('third'));
    await refusal(tp.call('kitchen__order', { item: 'pie' }));
    expect(seen).toEqual(['first', 'second']);
  });

  it('sees the call (name, arguments, call id, principal) and cannot change the arguments', async () => {
    const tp = await open();
    const events: ToolCallEvent[] = [];
    tp.on('tool_call', (event) => {
      events.push(event);
      (event.arguments as Record<string, unknown>).item = 'swapped';
    });
    const { text } = await refusal(tp.call('kitchen__order', { item: 'bread' }, { context: { principal: 'alice', callId: 'call-7' } }));
    expect(text).toMatch(/TypeError: Cannot assign to read only property 'item'/);
    expect(events[0]).toMatchObject({ type: 'tool_call', tool: 'kitchen__order', plugin: 'kitchen', callId: 'call-7', principal: 'alice', arguments: { item: 'bread' } });
  });

  it('known secrets in a block message are redacted before the model sees them', async () => {
    const tp = await open({ server: { http: { auth: { tokens: ['tok-very-secret-123'] } } } });
    tp.on('tool_call', () => new Error('token tok-very-secret-123 is not allowed to order'), { name: 'leaky' });
    const { text } = await refusal(tp.call('kitchen__order', { item: 'x' }));
    expect(text).toBe('kitchen__order was blocked by hook leaky: token [redacted] is not allowed to order');
  });

  it('removing a handler stops it', async () => {
    const tp = await open();
    const off = tp.on('tool_call', () => new Error('no'));
    off();
    expect(textOf(await tp.call('kitchen__order', { item: 'rice' }))).toBe('ordered rice');
  });

  it('runs after policy: a denied call never reaches the hooks', async () => {
    const tp = await open({ policy: { rules: [{ tool: 'kitchen__order', action: 'deny', reason: 'closed' }] } });
    let called = false;
    tp.on('tool_call', () => void (called = true));
    const { code } = await refusal(tp.call('kitchen__order', { item: 'rice' }));
    expect(code).toBe(ErrorCode.CallDenied);
    expect(called).toBe(false);
  });
});

describe('tool_result hooks', () => {
  it('redact in place', async () => {
    const tp = await open();
    tp.on('tool_result', (event) => {
      for (const block of event.result.content) if (block.type === 'text') block.text = block.text.replace(/SECRET-[\w-]+/g, '[redacted]');
    });
    const text = textOf(await tp.call('kitchen__recipe', { dish: 'ramen' }));
    expect(text).toContain('[redacted]');
    expect(text).not.toContain('SECRET-');
  });

  it('truncate by returning a replacement; later handlers see the earlier ones’ result', async () => {
    const tp = await open();
    const seenBySecond: string[] = [];
    tp.on('tool_result', (event) => ({ ...event.result, content: [{ type: 'text' as const, text: textOf(event.result).slice(0, 10) }] }));
    tp.on('tool_result', (event) => void seenBySecond.push(textOf(event.result)));
    const outcome = await tp.call('kitchen__recipe', {});
    expect(textOf(outcome)).toBe('Recipe for');
    expect(seenBySecond).toEqual(['Recipe for']);
  });

  it('a handler that fails withholds the result (a broken redactor must not leak)', async () => {
    const tp = await open();
    tp.on('tool_result', () => {
      throw new Error('redaction rules unavailable');
    }, { name: 'redactor' });
    const { code, text } = await refusal(tp.call('kitchen__recipe', {}));
    expect(code).toBe(ErrorCode.CallBlocked);
    expect(text).toBe('the result of kitchen__recipe was withheld by hook redactor: redaction rules unavailable');
    expect(text).not.toContain('SECRET-');
  });

  it('a handler that returns something that is not a result withholds it', async () => {
    const tp = await open();
    tp.on('tool_result', () => ({ text: 'not a result' }) as never, { name: 'sloppy' });
    const { text } = await refusal(tp.call('kitchen__recipe', {}));
    expect(text).toMatch(/withheld: hook sloppy left a result without a "content" list/);
  });

  it('carries the duration, and does not run for calls the plugin never answered', async () => {
    const tp = await open();
    const durations: number[] = [];
    tp.on('tool_result', (event) => void durations.push(event.durationMs));
    tp.on('tool_call', (event) => (event.arguments.item === 'x' ? new Error('no') : undefined));
    await tp.call('kitchen__simmer', { ms: 50 });
    await tp.call('kitchen__order', { item: 'x' }).catch(() => {});
    expect(durations).toHaveLength(1);
    expect(durations[0]).toBeGreaterThanOrEqual(45);
  });
});

describe('observational events', () => {
  it('message, tool_error and list_changed reach handlers in order; their failures never block', async () => {
    const tp = await open();
    const events: HookEvent[] = [];
    for (const type of ['message', 'tool_error', 'list_changed'] as const) {
      tp.on(type, (event) => {
        events.push(event);
        throw new Error('observer crashed');
      });
    }
    expect(textOf(await tp.call('kitchen__chatty', { text: 'soup' }))).toBe('done talking');
    await tp.call('kitchen__order', {}).catch(() => {});
    await tp.hooks.drain();
    expect(events.map((event) => event.type)).toEqual(['message', 'message', 'tool_error']);
    expect(events[0]).toMatchObject({ tool: 'kitchen__chatty', level: 'info', data: 'working on soup' });
    expect(events[2]).toMatchObject({ tool: 'kitchen__order', code: ErrorCode.ArgumentsInvalid });
  });
});

describe('audit', () => {
  it('records blocked and rate-limited calls with their own outcomes and the reason', async () => {
    const auditPath = join(dir.path, 'audit.jsonl');
    const tp = await open({ audit: { path: auditPath }, limits: [{ tool: 'kitchen__recipe', perHour: 1 }] });
    tp.on('tool_call', (event) => (event.tool === 'kitchen__order' ? new Error('no orders today') : undefined), { name: 'gate' });
    await tp.call('kitchen__order', { item: 'x' }).catch(() => {});
    await tp.call('kitchen__recipe', {});
    await tp.call('kitchen__recipe', {}).catch(() => {});
    const records = (await readFile(auditPath, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // Only the call that reached its plugin has a start line.
    expect(records.map((record) => [record.phase, record.tool, record.outcome])).toEqual([
      ['end', 'kitchen__order', 'blocked'],
      ['start', 'kitchen__recipe', undefined],
      ['end', 'kitchen__recipe', 'ok'],
      ['end', 'kitchen__recipe', 'rate_limited'],
    ]);
    expect(records[0]?.message).toBe('kitchen__order was blocked by hook gate: no orders today');
  });
});

describe('registerTool', () => {
  it('serves a tool through the same pipeline (policy, hooks), and list_changed tells about it', async () => {
    const tp = await open({ policy: { rules: [{ tool: 'app__nope', action: 'deny' }] } });
    const changes: string[][] = [];
    tp.on('list_changed', (event) => void changes.push([...event.tools]));
    const calls: string[] = [];
    tp.on('tool_call', (event) => void calls.push(event.tool));
    const remove = tp.registerTool(
      {
        name: 'check_price',
        description: 'Price of a symbol.',
        inputSchema: { type: 'object', properties: { symbol: { type: 'string' } }, required: ['symbol'] },
        execute: (args, ctx) => `${String(args.symbol)}: 42.00 (asked by ${ctx.principal})`,
      },
      { plugin: 'app' },
    );
    tp.registerTool({ name: 'nope', execute: () => 'never' }, { plugin: 'app' });
    expect(tp.listTools().map((tool) => tool.name)).toContain('app__check_price');
    expect(textOf(await tp.call('app__check_price', { symbol: 'BTC-USD' }, { context: { principal: 'bob' } }))).toBe('BTC-USD: 42.00 (asked by bob)');
    await expect(tp.call('app__check_price', {})).rejects.toMatchObject({ code: ErrorCode.ArgumentsInvalid });
    await expect(tp.call('app__nope', {})).rejects.toMatchObject({ code: ErrorCode.CallDenied });
    expect(calls).toEqual(['app__check_price']);
    remove();
    expect(tp.listTools().map((tool) => tool.name)).not.toContain('app__check_price');
    await tp.hooks.drain();
    expect(changes.at(-1)).not.toContain('app__check_price');
    expect(changes.some((tools) => tools.includes('app__check_price'))).toBe(true);
    expect(() => tp.registerTool({ name: 'x', execute: () => 1 }, { plugin: 'kitchen' })).toThrow(/id of a loaded plugin/);
  });

  it("a registered tool's ctx has its fields as its own but signal, read through a getter (also through a Proxy)", async () => {
    const tp = await open({});
    tp.registerTool(
      {
        name: 'peek',
        annotations: { readOnlyHint: true },
        execute: (_args, ctx) => ({
          own: Object.keys({ ...ctx }).sort(),
          signal: ctx.signal instanceof AbortSignal && new Proxy(ctx, {}).signal === ctx.signal,
        }),
      },
      { plugin: 'app' },
    );
    expect((await tp.call('app__peek', {})).structuredContent).toEqual({ own: ['callId', 'log', 'principal', 'progress', 'sessionId'], signal: true });
  });
});
