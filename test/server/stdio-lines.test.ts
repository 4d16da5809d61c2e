// stdio survives huge lines and loses no answer at EOF: a line over 10 MiB gets a JSON-RPC
// error (or is dropped with a log line when it has no id) and the server keeps serving;
// requests read before stdin closed are answered before exit, in both eras; a call still
// running when stdin closes gets a grace of 2 s, then is cancelled and answered.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { initializeRequest as initialize, startStdioProcess, type JsonRpcReply } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
const python = fileURLToPath(new URL('../fixtures/python/weather.py', import.meta.url));
const elevenMiB = 11 * 1024 * 1024;

const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
const call = (id: number | string, name: string, args: object) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const resultText = (reply: JsonRpcReply) => textOf(reply.result ?? {});

const scratch = useTempDir('toolport-stdio-', 'all');

describe('a stdio line over 10 MiB', () => {
  it('is answered with an error (or dropped with a log line) and the server keeps serving and stops on EOF', async () => {
    // A Python plugin keeps a child process (and the event loop) alive: the case that hung.
    const server = startStdioProcess([fixture, python]);
    try {
      server.send(initialize);
      expect(await server.reply(1, 20_000)).toMatchObject({ result: { protocolVersion: '2025-11-25' } });
      server.send(initialized);

      // A request: its id comes first, as SDK clients write it.
      server.send(call(2, 'e2e__weather', { city: 'x'.repeat(elevenMiB) }));
      const tooLarge = await server.reply(2);
      expect(tooLarge).toMatchObject({ error: { code: -32600 } });
      expect((tooLarge.error as { message: string }).message).toMatch(/larger than 10 MiB/);

      // The id after the huge params; an "id" nested inside the params is not the request's.
      const late = `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"e2e__weather","arguments":{"id":99,"city":"${'y'.repeat(elevenMiB)}"}},"id":"late"}`;
      server.send(late);
      expect(await server.reply('late')).toMatchObject({ error: { code: -32600 } });

      // A notification and garbage have no id to answer: dropped, with a log line each.
      server.send({ jsonrpc: '2.0', method: 'notifications/message', params: { data: 'z'.repeat(elevenMiB) } });
      server.send('q'.repeat(elevenMiB));

      server.send(call(3, 'e2e__weather', { city: 'Tromsø' }));
      expect(await server.reply(3)).toMatchObject({ result: { structuredContent: { city: 'Tromsø', days: 1 } } });
      server.send(call(4, 'acme_weather__forecast', { city: 'Tokyo' }));
      expect(resultText(await server.reply(4, 20_000))).toContain('Tokyo: 晴れ');

      expect(server.messages.some((message) => message.id === 99)).toBe(false);
      expect(server.nonJson).toEqual([]);
      expect(server.stderr()).toMatch(/\{"level":40,.*"method":"notifications\/message","reason":"a notification has no id to answer","msg":"dropped a stdio line over the size limit"/);
      expect(server.stderr()).toMatch(/\{"level":40,.*"reason":"not a JSON-RPC message with a readable id","msg":"dropped a stdio line over the size limit"/);
      expect(server.process.exitCode).toBeNull();

      const { code, ms } = await server.end();
      expect(code).toBe(0);
      expect(ms).toBeLessThan(5_000);
      expect(server.stderr()).toMatch(/"reason":"stdin closed".*"msg":"shutting down"/);
    } finally {
      server.process.kill('SIGKILL');
    }
  }, 60_000);
});

describe('EOF on stdio', () => {
  it('answers initialize and tools/list piped in before EOF (2025-era, with a Python plugin)', async () => {
    const server = startStdioProcess([fixture, python]);
    server.send(initialize);
    server.send(initialized);
    server.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const { code } = await server.end(20_000);
    expect(code).toBe(0);
    expect(server.messages.find((message) => message.id === 1)).toMatchObject({ result: { protocolVersion: '2025-11-25' } });
    const list = server.messages.find((message) => message.id === 2) as { result?: { tools: { name: string }[] } } | undefined;
    expect(list?.result?.tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['e2e__weather', 'acme_weather__forecast']));
  }, 30_000);

  it('answers server/discover, tools/list and a call piped in before EOF (2026-07-28, with a Python plugin)', async () => {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    const server = startStdioProcess([fixture, python]);
    server.send({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } });
    server.send({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: meta } });
    server.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'e2e__weather', arguments: { city: 'Oslo' }, _meta: meta } });
    const { code } = await server.end(20_000);
    expect(code).toBe(0);
    expect(server.messages.find((message) => message.id === 1)).toMatchObject({ result: { supportedVersions: ['2026-07-28'] } });
    const list = server.messages.find((message) => message.id === 2) as { result?: { tools: { name: string }[] } } | undefined;
    expect(list?.result?.tools.map((tool) => tool.name)).toContain('e2e__weather');
    expect(server.messages.find((message) => message.id === 3)).toMatchObject({ result: { structuredContent: { city: 'Oslo' } } });
  }, 30_000);

  /** A server asked for an answer of ~4.5 MB (request 2): more than a pipe holds, so it waits in stdout. */
  function askForLargeAnswer() {
    const city = 'x'.repeat(1.5 * 1024 * 1024);
    const server = startStdioProcess([fixture]);
    server.send(initialize);
    server.send(initialized);
    server.send(call(2, 'e2e__weather', { city }));
    return { server, city };
  }

  it('writes a large last answer whole before it exits, and the answer after it', async () => {
    // Megabytes still in stdout's buffer when every request counted as answered were cut off at exit.
    const { server, city } = askForLargeAnswer();
    server.send(call(3, 'e2e__weather', { city: 'Bergen' }));
    const { code } = await server.end(20_000);
    expect(code).toBe(0);
    expect(server.nonJson).toEqual([]);
    expect(server.messages.find((message) => message.id === 2)).toMatchObject({ result: { structuredContent: { city, days: 1 } } });
    expect(server.messages.find((message) => message.id === 3)).toMatchObject({ result: { structuredContent: { city: 'Bergen' } } });
  }, 30_000);

  it('waits for a client that reads slowly, past the grace for running calls, and exits once it has every answer', async () => {
    const { server, city } = askForLargeAnswer();
    // The client reads nothing for 3.5 s: longer than the 2 s grace and the 1 s after it.
    server.process.stdout?.pause();
    setTimeout(() => server.process.stdout?.resume(), 3_500);
    const { code, ms } = await server.end(20_000);
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(3_400);
    expect(server.messages.find((message) => message.id === 2)).toMatchObject({ result: { structuredContent: { city } } });
    expect(server.stderr()).not.toMatch(/cancelling them|left unanswered/);
  }, 30_000);

  it('gives up on a client that reads none of its answers after 10 s, and exits', async () => {
    const { server } = askForLargeAnswer();
    await server.reply(1);
    server.process.stdout?.pause();
    const { code, ms } = await server.end(30_000);
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(9_900);
    expect(ms).toBeLessThan(15_000);
    expect(server.stderr()).toMatch(/"msg":"the client did not read every answer in time; exiting without the rest"/);
  }, 40_000);

  it('answers a call in flight that finishes within the grace', async () => {
    const server = startStdioProcess([fixture]);
    server.send(initialize);
    server.send(initialized);
    server.send(call(2, 'e2e__slow', { steps: 10 }));
    const { code } = await server.end();
    expect(code).toBe(0);
    expect(resultText(server.messages.find((message) => message.id === 2) ?? {})).toBe('done after 10 steps');
  });

  it('cancels a call still running 2 s after EOF, answers it, and exits', async () => {
    const marker = join(scratch.path, 'slow-marker');
    const server = startStdioProcess([fixture]);
    server.send(initialize);
    expect(await server.reply(1)).toHaveProperty('result');
    server.send(initialized);
    server.send(call(2, 'e2e__slow', { steps: 400, marker }));
    // Let the call start before stdin closes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { code, ms } = await server.end();
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(1_900);
    expect(ms).toBeLessThan(5_000);
    const answer = server.messages.find((message) => message.id === 2) as { result?: { isError?: boolean } } | undefined;
    expect(answer?.result?.isError).toBe(true);
    expect(resultText(answer ?? {})).toMatch(/e2e__slow was cancelled/);
    expect(await readFile(marker, 'utf8')).toBe('aborted');
  });
});
