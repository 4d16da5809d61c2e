// What happens to a plugin's worker: an endless loop is stopped at the time limit or on
// cancellation (the thread stops burning CPU) and a fresh instance answers the next call;
// a trap is an error result and the next call gets a fresh instance; memory is capped;
// close stops everything; and guest printing never reaches the process's stdout.
import { spawn } from 'node:child_process';
import type { Client } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isToolportError } from '../../../src/core/errors.js';
import { buildWatFixture } from '../../fixtures/wasm/build.js';
import { binPath, connectClient, repoRoot } from '../../helpers/toolport-process.js';
import { cpuLoadOver, kitchenWasm, sharedCacheDir, startToolport, textOf, writeConfig, type TestToolport } from './helpers.js';

let contract: { wasm: string; wit: string };
let memory: { wasm: string; wit: string };
const open: TestToolport[] = [];

async function start(plugins: Record<string, unknown>[]): Promise<TestToolport> {
  const started = await startToolport(plugins);
  open.push(started);
  return started;
}

beforeAll(async () => {
  contract = await buildWatFixture('contract');
  memory = await buildWatFixture('memory');
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
});

describe('wasm: an endless loop', () => {
  it('is stopped at the time limit: its thread stops, and a fresh instance answers next', async () => {
    const { call, log } = await start([{ path: contract.wasm, wit: contract.wit, timeoutSeconds: 2 }]);
    expect(textOf(await call('contract__echo', { text: 'warm' }))).toBe('warm');
    const hanging = call('contract__hang');
    await new Promise((resolve) => setTimeout(resolve, 200));
    // A thread spins while the guest loops (on a busy machine it gets less than a core)...
    const spinning = await cpuLoadOver(1000);
    expect(spinning, 'CPU while the guest loops').toBeGreaterThan(0.1);
    const result = await hanging;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('contract__hang timed out after 2 s');
    // ...and nothing spins once the call has timed out.
    const after = await cpuLoadOver(1000);
    expect(after, `CPU after the time limit (${spinning.toFixed(2)} while looping)`).toBeLessThan(Math.min(0.1, spinning / 3));
    expect(log.messages()).toContain('terminating the plugin worker of an aborted call');
    expect(textOf(await call('contract__echo', { text: 'after the loop' }))).toBe('after the loop');
  });

  it('is stopped when the client cancels', async () => {
    const { toolport, call } = await start([{ path: contract.wasm, wit: contract.wit, timeoutSeconds: 30 }]);
    await call('contract__echo', { text: 'warm' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const error = await toolport.call('contract__hang', {}, { signal: controller.signal }).catch((reason: unknown) => reason);
    expect(isToolportError(error) && error.code).toBe(ErrorCode.CallCancelled);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await cpuLoadOver(1000)).toBeLessThan(0.1);
    expect(textOf(await call('contract__echo', { text: 'next' }))).toBe('next');
  });

  it('does not hold up calls on another instance when a plugin has several', async () => {
    const { call } = await start([{ path: contract.wasm, wit: contract.wit, timeoutSeconds: 3, instances: 2 }]);
    await call('contract__echo', { text: 'warm' });
    const hanging = call('contract__hang');
    const started = Date.now();
    expect(textOf(await call('contract__echo', { text: 'beside the loop' }))).toBe('beside the loop');
    expect(Date.now() - started).toBeLessThan(2_500);
    expect((await hanging).isError).toBe(true);
  });

  it('with one instance, calls queue behind it and run once it is stopped', async () => {
    const { call } = await start([{ path: contract.wasm, wit: contract.wit, timeoutSeconds: 1.5 }]);
    await call('contract__echo', { text: 'warm' });
    const order: string[] = [];
    const hanging = call('contract__hang').finally(() => order.push('hang'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const queued = call('contract__echo', { text: 'queued' }).finally(() => order.push('queued'));
    expect((await hanging).isError).toBe(true);
    // The queued call had its own 1.5 s; it ran on the fresh instance if time was left.
    const result = await queued;
    // Queued, not run beside the loop: an echo beside it would have answered first.
    expect(order).toEqual(['hang', 'queued']);
    if (result.isError) expect(textOf(result)).toMatch(/timed out/);
    else expect(textOf(result)).toBe('queued');
  });
});

describe('wasm: a trap', () => {
  it('is an error result, and the next call runs on a fresh instance', async () => {
    const { call } = await start([{ path: kitchenWasm, timeoutSeconds: 60 }]);
    expect((await call('kitchen__count')).structuredContent).toEqual({ result: 1 });
    expect((await call('kitchen__count')).structuredContent).toEqual({ result: 2 });
    const crashed = await call('kitchen__boom');
    expect(crashed.isError).toBe(true);
    expect(textOf(crashed)).toMatch(/^boom failed: the Wasm plugin trapped \(.*unreachable.*\)$/);
    // A fresh instance: module state starts over.
    expect((await call('kitchen__count')).structuredContent).toEqual({ result: 1 });
  }, 120_000);

  it('in a WAT component too (the contract crash)', async () => {
    const { call } = await start([{ path: contract.wasm, wit: contract.wit }]);
    const crashed = await call('contract__crash');
    expect(crashed.isError).toBe(true);
    expect(textOf(crashed)).toContain('unreachable');
    expect(textOf(await call('contract__echo', { text: 'fine' }))).toBe('fine');
  });
});

describe('wasm: memory', () => {
  it('is capped per plugin: growth past memoryLimitMb is refused to the guest', async () => {
    const { call } = await start([{ path: memory.wasm, wit: memory.wit, memoryLimitMb: 16 }]);
    const small = await call('memory__grow', { mib: 8 });
    expect(small.structuredContent).toEqual({ result: 8 });
    const big = await call('memory__grow', { mib: 64 });
    expect(big.isError).toBe(true);
    expect(textOf(big)).toBe('out of memory');
  });

  it('without a cap setting, 256 MiB holds', async () => {
    const { call } = await start([{ path: memory.wasm, wit: memory.wit }]);
    expect((await call('memory__grow', { mib: 128 })).structuredContent).toEqual({ result: 128 });
    expect((await call('memory__grow', { mib: 512 })).isError).toBe(true);
  });

  it('a cap below what the component needs to start is reported on the call', async () => {
    const { call } = await start([{ path: kitchenWasm, memoryLimitMb: 1 }]);
    const result = await call('kitchen__count');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/could not be prepared to run: .*memoryLimitMb 1 is too small/);
  }, 60_000);
});

describe('wasm: close', () => {
  it('stops running calls and every worker, and is idempotent', async () => {
    const started = await startToolport([{ path: contract.wasm, wit: contract.wit, timeoutSeconds: 30, instances: 2 }]);
    await started.call('contract__echo', { text: 'warm' });
    const hanging = started.call('contract__hang');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await Promise.all([started.close(), started.close()]);
    const result: CallToolResult = await hanging;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/shutting down/);
    expect(await cpuLoadOver(1000)).toBeLessThan(0.1);
  });
});

describe('wasm: guest output', () => {
  let client: Client | undefined;

  afterAll(async () => {
    await client?.close();
  });

  it('goes to the log on stderr: `toolport call` prints only the result on stdout', async () => {
    const config = await writeConfig({ plugins: [{ path: kitchenWasm, cacheDir: sharedCacheDir, timeoutSeconds: 60 }] });
    const child = spawn(process.execPath, [binPath, 'call', 'kitchen__shout', '{"text":"psst"}', '--config', config, '--log-level', 'info'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(stdout).toBe('PSST\n');
    expect(stderr).toContain('"stream":"stdout","msg":"stdout: psst"');
    expect(stderr).toContain('"stream":"stderr","msg":"stderr: psst"');
  }, 120_000);

  it('does not corrupt a stdio MCP session', async () => {
    const config = await writeConfig({ plugins: [{ path: kitchenWasm, cacheDir: sharedCacheDir, timeoutSeconds: 60 }] });
    client = await connectClient('stdio', { serveArgs: ['--config', config] });
    for (const text of ['one', 'two', '{"jsonrpc":"2.0","id":1,"result":{}}']) {
      const result = (await client.callTool({ name: 'kitchen__shout', arguments: { text } }));
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toBe(text.toUpperCase());
    }
    const { tools } = await client.listTools();
    expect(tools.some((tool) => tool.name === 'kitchen__shout')).toBe(true);
  }, 120_000);
});
