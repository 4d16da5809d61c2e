// The stdio wire in-process, over PassThrough streams: lines split across chunks, a line over
// the limit (answered or dropped by what its envelope says), the requests still unanswered
// when input ends, and a failing stdout. The envelope scanner table-tested on its own.
import { PassThrough, Writable } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/core/logger.js';
import { createEnvelopeScanner, createStdioLineTransport } from '../../src/server/stdio-transport.js';

function scan(text: string, chunkSize = 7): ReturnType<ReturnType<typeof createEnvelopeScanner>['envelope']> {
  const scanner = createEnvelopeScanner();
  const bytes = Buffer.from(text);
  for (let start = 0; start < bytes.length; start += chunkSize) scanner.scan(bytes.subarray(start, start + chunkSize));
  return scanner.envelope();
}

describe('the envelope scanner', () => {
  it.each([
    ['{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{}}', { id: 7, method: 'tools/call' }],
    ['{"method":"tools/call","params":{"id":99,"x":[{"id":1}],"s":"\\"id\\":5"},"id":"late"}', { id: 'late', method: 'tools/call' }],
    ['  { "id" : "a\\"b" , "method" : "ping" }', { id: 'a"b', method: 'ping' }],
    ['{"params":{"s":"x\\\\","t":"\\"}"},"id":4,"method":"m"}', { id: 4, method: 'm' }],
    ['{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"ü€😀"}}', { method: 'notifications/message' }],
    ['{"jsonrpc":"2.0","id":3,"result":{}}', { id: 3 }],
    ['{"id":null,"method":"x"}', { method: 'x' }],
    ['{"id":{"nested":1},"method":["x"]}', {}],
    ['[{"id":1,"method":"x"}]', {}],
    ['not json at all', {}],
    [`{"id":"${'z'.repeat(2000)}","method":"x"}`, { method: 'x' }],
  ])('%s', (text, expected) => {
    expect(scan(text)).toEqual(expected);
    expect(scan(text, 1)).toEqual(expected);
  });
});

function createWire(maxLineBytes = 64) {
  const input = new PassThrough();
  const output = new PassThrough();
  const written: JSONRPCMessage[] = [];
  let text = '';
  output.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
    const lines = text.split('\n');
    text = lines.pop() ?? '';
    for (const line of lines) written.push(JSON.parse(line) as JSONRPCMessage);
  });
  const events: string[] = [];
  const wire = createStdioLineTransport({
    input,
    output,
    logger: createSilentLogger(),
    maxLineBytes,
    onInputEnd: () => events.push('input end'),
    onClosed: () => events.push('closed'),
  });
  const received: JSONRPCMessage[] = [];
  wire.onmessage = (message) => received.push(message);
  return { input, output, wire, written, received, events };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
/** Past the current turn: what the transport queued in it is written. */
const nextTurn = () => new Promise((resolve) => process.nextTick(resolve));

describe('the stdio line transport', () => {
  it('reads lines split across chunks, with \\r\\n, and a last line without its newline', async () => {
    const { input, wire, received, events } = createWire(1024);
    await wire.start();
    const one = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const two = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const three = JSON.stringify({ jsonrpc: '2.0', id: 'ü', method: 'tools/list' });
    const bytes = Buffer.from(`${one}\r\n\n${two}\nnot json\n${three}`);
    for (let start = 0; start < bytes.length; start += 5) input.write(bytes.subarray(start, start + 5));
    input.end();
    await tick();
    expect(received.map((message) => ('id' in message ? message.id : 'note'))).toEqual([1, 'note', 'ü']);
    expect(events).toEqual(['input end']);
    expect(wire.unanswered).toBe(2);
  });

  it('answers a request over the limit with -32600 and its id, drops the rest, and reads on', async () => {
    const { input, wire, written, received } = createWire(64);
    await wire.start();
    input.write(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"pad":"${'x'.repeat(100)}"}}\n`);
    input.write(`{"jsonrpc":"2.0","method":"notifications/message","params":{"pad":"${'x'.repeat(100)}"}}\n`);
    input.write(`{"jsonrpc":"2.0","id":6,"result":{"pad":"${'x'.repeat(100)}"}}\n`);
    input.write(`${'x'.repeat(65)}\n{"jsonrpc":"2.0","id":7,"method":"ping"}\n`);
    await tick();
    expect(written).toEqual([
      { jsonrpc: '2.0', id: 5, error: { code: -32600, message: expect.stringMatching(/^Request too large: this message is 166 bytes, larger than 64 bytes, the most toolport reads in one stdio line$/) as string } },
    ]);
    expect(received).toEqual([{ jsonrpc: '2.0', id: 7, method: 'ping' }]);
    // The refused request is answered already; only the ping is waiting.
    expect(wire.unanswered).toBe(1);
  });

  it('counts a request answered when its response is sent, or when the client cancels it', async () => {
    const { input, wire } = createWire(1024);
    await wire.start();
    input.write('{"jsonrpc":"2.0","id":1,"method":"tools/call"}\n{"jsonrpc":"2.0","id":2,"method":"tools/call"}\n{"jsonrpc":"2.0","id":3,"method":"subscriptions/listen"}\n');
    await tick();
    expect(wire.unanswered).toBe(2);
    expect(await wire.whenAnswered(20)).toBe(false);
    const answered = wire.whenAnswered(1_000);
    await wire.send({ jsonrpc: '2.0', id: 1, result: {} });
    input.write('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}\n');
    expect(await answered).toBe(true);
  });

  it('closes when stdout fails, and refuses to send afterwards', async () => {
    const { output, wire, events } = createWire();
    let closedBySdk = false;
    wire.onclose = () => {
      closedBySdk = true;
    };
    await wire.start();
    output.destroy(new Error('EPIPE'));
    await tick();
    expect(closedBySdk).toBe(true);
    expect(events).toEqual(['closed']);
    await expect(wire.send({ jsonrpc: '2.0', id: 1, result: {} })).rejects.toThrow(/closed/);
  });

  /** A wire over `output`, read from a stdin the test writes to. */
  function wireOver(output: Writable) {
    const input = new PassThrough();
    const wire = createStdioLineTransport({ input, output, logger: createSilentLogger(), onInputEnd: () => {}, onClosed: () => {} });
    return { input, wire };
  }

  /** A wire whose stdout records each write it is given. */
  function createRecordedWire() {
    const writes: string[] = [];
    const output = new Writable({
      write(chunk: Buffer, _encoding, done) {
        writes.push(chunk.toString('utf8'));
        done();
      },
    });
    return { ...wireOver(output), writes };
  }

  it('writes the answers sent in one turn with one write once the turn is over, in the order they were sent', async () => {
    const { wire, writes } = createRecordedWire();
    await wire.start();
    const sending: Promise<void>[] = [];
    for (let id = 1; id <= 16; id += 1) sending.push(wire.send({ jsonrpc: '2.0', id, result: { id } }));
    expect(writes).toEqual([]);
    await Promise.all(sending);
    expect(writes).toHaveLength(1);
    const lines = writes[0]!.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => (JSON.parse(line) as { id: number }).id)).toEqual(Array.from({ length: 16 }, (_, index) => index + 1));
    await wire.send({ jsonrpc: '2.0', id: 17, result: {} });
    expect(writes).toHaveLength(2);
  });

  it('counts a request answered once its answer is written, and writes what was sent before a close', async () => {
    const { input, wire, writes } = createRecordedWire();
    await wire.start();
    input.write('{"jsonrpc":"2.0","id":1,"method":"tools/call"}\n{"jsonrpc":"2.0","id":2,"method":"tools/call"}\n');
    await tick();
    const answered = wire.whenAnswered(1_000).then((done) => ({ done, written: writes.join('') }));
    void wire.send({ jsonrpc: '2.0', id: 1, result: {} });
    void wire.send({ jsonrpc: '2.0', id: 2, result: {} });
    // Queued, not written: not answered yet.
    expect(wire.unanswered).toBe(2);
    expect(await answered).toEqual({ done: true, written: '{"jsonrpc":"2.0","id":1,"result":{}}\n{"jsonrpc":"2.0","id":2,"result":{}}\n' });
    void wire.send({ jsonrpc: '2.0', id: 3, result: { last: true } });
    await wire.close();
    expect(writes.at(-1)).toBe('{"jsonrpc":"2.0","id":3,"result":{"last":true}}\n');
  });

  it('writes a notification at once, after the answers queued before it', () => {
    const { wire, writes } = createRecordedWire();
    void wire.send({ jsonrpc: '2.0', id: 1, result: {} });
    void wire.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } });
    // Still in the same turn: a tool that works on synchronously does not hold its progress back.
    expect(writes).toEqual(['{"jsonrpc":"2.0","id":1,"result":{}}\n{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}\n']);
  });

  it('writes the answers of a turn in more than one write once they pass 1 MiB together, in order', async () => {
    const { wire, writes } = createRecordedWire();
    const text = 'y'.repeat(400 * 1024);
    await Promise.all(Array.from({ length: 6 }, (_, index) => wire.send({ jsonrpc: '2.0', id: index + 1, result: { text } })));
    expect(writes.length).toBeGreaterThan(1);
    expect(writes.every((written) => written.length <= 1024 * 1024 || written.split('\n').length === 2)).toBe(true);
    const ids = writes.join('').split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { id: number }).id);
    expect(ids).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('counts an answer once it is written, and says when stdout has taken every byte of it', async () => {
    let release: () => void = () => {};
    const output = new Writable({
      write(_chunk: Buffer, _encoding, done) {
        // The system takes the bytes only when the test says so (a client reading slowly).
        release = () => done();
      },
    });
    const { input, wire } = wireOver(output);
    await wire.start();
    expect(await wire.whenWritten(10)).toBe(true);
    input.write('{"jsonrpc":"2.0","id":1,"method":"tools/call"}\n');
    await tick();
    void wire.send({ jsonrpc: '2.0', id: 1, result: {} });
    expect(await wire.whenAnswered(1_000)).toBe(true);
    expect(await wire.whenWritten(50)).toBe(false);
    const written = wire.whenWritten(1_000);
    release();
    expect(await written).toBe(true);
  });

  it('rejects the senders of a batch stdout refuses, reports it, and closes (no wait for answers that cannot be written)', async () => {
    const output = new Writable({
      write() {
        throw new Error('refused by the stream');
      },
    });
    const { input, wire } = wireOver(output);
    const errors: string[] = [];
    wire.onerror = (error) => errors.push(error.message);
    await wire.start();
    input.write('{"jsonrpc":"2.0","id":1,"method":"tools/call"}\n');
    await tick();
    let closed = false;
    wire.onclose = () => {
      closed = true;
    };
    await expect(wire.send({ jsonrpc: '2.0', id: 1, result: {} })).rejects.toThrow('refused by the stream');
    expect(errors).toEqual(['refused by the stream']);
    expect(closed).toBe(true);
    expect(await wire.whenAnswered(10)).toBe(true);
    await expect(wire.send({ jsonrpc: '2.0', id: 2, result: {} })).rejects.toThrow(/closed/);
  });

  /**
   * `count` answers sent to a stdout nobody reads yet, one a turn (what is sent in one turn is
   * one write), each larger than its 64-byte buffer: every one waits for a drain.
   */
  async function answersToFullStdout(count: number) {
    const output = new PassThrough({ highWaterMark: 64 });
    const { wire } = wireOver(output);
    await wire.start();
    const sending: Promise<void>[] = [];
    for (let id = 0; id < count; id += 1) {
      sending.push(wire.send({ jsonrpc: '2.0', id, result: { text: 'x'.repeat(100) } }));
      await nextTurn();
    }
    return { output, wire, sending };
  }

  it('answers written while stdout is full all wait for one drain, with one pair of listeners', async () => {
    const { output, sending } = await answersToFullStdout(40);
    expect(output.listenerCount('drain')).toBe(1);
    expect(output.listenerCount('error')).toBe(2);
    let read = '';
    output.setEncoding('utf8').on('data', (chunk: string) => (read += chunk));
    await Promise.all(sending);
    expect(read.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { id: number }).id)).toEqual(Array.from({ length: 40 }, (_, id) => id));
    expect(output.listenerCount('drain')).toBe(0);
  });

  it('ends the answers still waiting for a full stdout when the connection closes', async () => {
    const { output, wire, sending } = await answersToFullStdout(4);
    await wire.close();
    const settled = await Promise.allSettled(sending);
    expect(settled.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(output.listenerCount('drain')).toBe(0);
  });
});

