// The wire under serveStdio: newline-delimited JSON-RPC on stdin/stdout, read with a byte
// limit per line (a longer line is answered with an error or dropped, never fatal), and an
// end of input that is not a close: the requests already read are tracked until answered.
import type { Readable, Writable } from 'node:stream';
import { deserializeMessage, type JSONRPCMessage, type RequestId, type Transport } from '@modelcontextprotocol/server';
import type { Logger } from '../core/logger.js';
import { serializeForWire } from './serialize.js';

/** The longest line read by default: the SDK's own limit, which used to end the transport. */
export const defaultMaxLineBytes = 10 * 1024 * 1024;

export interface StdioLineTransportOptions {
  input: Readable;
  output: Writable;
  logger: Logger;
  /** Longest line read, in bytes (without the newline). */
  maxLineBytes?: number;
  /** The input ended: nothing more will be read; the transport stays open for answers. */
  onInputEnd: () => void;
  /** The transport closed: by close(), or because the output failed. */
  onClosed: () => void;
}

export interface StdioLineTransport extends Transport {
  /**
   * Requests read and not answered yet. A `subscriptions/listen` request does not count: it
   * is answered only when the connection closes.
   */
  readonly unanswered: number;
  /** Resolves true once every request read so far is answered, or false after `ms`. */
  whenAnswered(ms: number): Promise<boolean>;
  /**
   * Resolves true once stdout has taken every byte written to it so far (a slow reader, a large
   * answer), or false after `ms`.
   */
  whenWritten(ms: number): Promise<boolean>;
}

const newline = 0x0a;
/**
 * The most one batch of answers holds (characters, or bytes of a kept page) before it is written:
 * the join stays small, however large or many the answers of one turn are.
 */
const maxBatchLength = 1024 * 1024;

// The transport only needs to know a message's shape (request, cancellation, answer) to
// track what is unanswered; deserializeMessage has validated it already, so plain field
// checks do (the SDK's schema guards cost more than the rest of the transport per call).
const methodOf = (message: JSONRPCMessage): string | undefined => ('method' in message ? message.method : undefined);
const idOf = (message: JSONRPCMessage): RequestId | undefined => ('id' in message ? message.id : undefined);

function describeBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB (${bytes} bytes)` : `${bytes} bytes`;
}

export function createStdioLineTransport(options: StdioLineTransportOptions): StdioLineTransport {
  const { input, output, logger } = options;
  const maxLineBytes = options.maxLineBytes ?? defaultMaxLineBytes;
  // The line being read: its pieces so far, or (past the limit) a scanner of its envelope.
  let pieces: Buffer[] = [];
  let pieceBytes = 0;
  let oversized: { scanner: EnvelopeScanner; bytes: number } | undefined;
  let inputEnded = false;
  let closed = false;
  // Requests read and not yet answered, and who waits for them all to be answered.
  const unanswered = new Set<RequestId>();
  const answerWaiters = new Waiters();
  // Writes stdout has not finished taking, and who waits for it to take them all.
  let writing = 0;
  const writeWaiters = new Waiters();

  const settle = (id: RequestId): void => {
    if (unanswered.delete(id) && unanswered.size === 0) answerWaiters.release();
  };
  const written = (): void => {
    writing -= 1;
    if (writing === 0) writeWaiters.release();
  };

  const deliver = (message: JSONRPCMessage): void => {
    const method = methodOf(message);
    const id = idOf(message);
    if (method !== undefined && id !== undefined) {
      if (method !== 'subscriptions/listen') unanswered.add(id);
    } else if (method === 'notifications/cancelled') {
      // A cancelled request is not answered (the spec says so); stop waiting for it.
      const cancelled = ('params' in message ? (message.params as { requestId?: RequestId } | undefined) : undefined)?.requestId;
      if (cancelled !== undefined) settle(cancelled);
    }
    transport.onmessage?.(message);
  };

  const readLine = (line: string): void => {
    if (line.trim() === '') return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(line);
    } catch (error) {
      // As the SDK does: a line that is not JSON is skipped; JSON that is not JSON-RPC is reported.
      if (error instanceof SyntaxError) logger.debug({ bytes: Buffer.byteLength(line) }, 'skipped a stdio line that is not JSON');
      else transport.onerror?.(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    deliver(message);
  };

  const refuseOversized = (bytes: number, envelope: Envelope): void => {
    const { id, method } = envelope;
    if (id !== undefined && method !== undefined) {
      logger.warn({ bytes, method, id }, 'refused a stdio request over the size limit');
      const message = `Request too large: this message is ${bytes} bytes, larger than ${describeBytes(maxLineBytes)}, the most toolport reads in one stdio line`;
      transport.send({ jsonrpc: '2.0', id, error: { code: -32600, message } }).catch(() => {});
      return;
    }
    const reason =
      method !== undefined ? 'a notification has no id to answer' : id !== undefined ? 'a response cannot be answered' : 'not a JSON-RPC message with a readable id';
    logger.warn({ bytes, ...(method !== undefined && { method }), ...(id !== undefined && { id }), reason }, 'dropped a stdio line over the size limit');
  };

  const endLine = (): void => {
    if (oversized) {
      const { scanner, bytes } = oversized;
      oversized = undefined;
      refuseOversized(bytes, scanner.envelope());
      return;
    }
    const line = Buffer.concat(pieces, pieceBytes).toString('utf8').replace(/\r$/, '');
    pieces = [];
    pieceBytes = 0;
    readLine(line);
  };

  const onData = (chunk: Buffer | string): void => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    while (start <= data.length) {
      // Search only the new bytes: a long line arriving in many chunks stays linear.
      const end = data.indexOf(newline, start);
      const piece = data.subarray(start, end === -1 ? data.length : end);
      if (oversized) {
        oversized.scanner.scan(piece);
        oversized.bytes += piece.length;
      } else if (pieceBytes + piece.length > maxLineBytes) {
        // Past the limit the line is no longer kept, only scanned for its id and method.
        const scanner = createEnvelopeScanner();
        for (const earlier of pieces) scanner.scan(earlier);
        scanner.scan(piece);
        oversized = { scanner, bytes: pieceBytes + piece.length };
        pieces = [];
        pieceBytes = 0;
      } else if (piece.length > 0) {
        pieces.push(piece);
        pieceBytes += piece.length;
      }
      if (end === -1) break;
      endLine();
      start = end + 1;
    }
  };

  const onEnd = (): void => {
    if (inputEnded) return;
    inputEnded = true;
    // A last line without its newline is still a line.
    if (oversized || pieceBytes > 0) endLine();
    detachInput();
    options.onInputEnd();
  };
  const onInputError = (error: Error): void => {
    transport.onerror?.(error);
    onEnd();
  };
  const onOutputError = (error: Error): void => {
    // The client stopped reading: nothing can be answered any more.
    if (closed) return;
    logger.warn({ err: error }, 'stdout failed; closing the stdio connection');
    void transport.close();
  };

  // Every answer written while stdout is full waits for the same drain: one pair of
  // listeners however many answers are waiting (one pair each set off Node's leak warning).
  // close() ends the wait too (`draining.fail`), so no answer waits for a stream nobody reads.
  let draining: { readonly done: Promise<void>; readonly fail: (error: Error) => void } | undefined;
  const whenDrained = (): Promise<void> => {
    if (draining) return draining.done;
    let fail: (error: Error) => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        output.off('error', fail);
        draining = undefined;
        resolve();
      };
      fail = (error) => {
        output.off('drain', onDrain);
        output.off('error', fail);
        draining = undefined;
        reject(error);
      };
      output.once('error', fail);
      output.once('drain', onDrain);
    });
    draining = { done, fail };
    return done;
  };

  // Answers sent in one turn leave in one write once the turn is over: with 16 calls in flight,
  // one write (and one read at the client) instead of sixteen. A batch is written early when it
  // grows past `maxBatchLength`, and so is one that a notification or a request of the server's
  // joins: those are written at once (a progress bar moves while a tool works synchronously).
  let queued: Batch | undefined;
  const flush = (): void => {
    const batch = queued;
    if (!batch) return;
    queued = undefined;
    // Whether stdout's buffer has room left (else the senders wait for a drain).
    let roomLeft: boolean;
    writing += 1;
    try {
      // A write that fails later is seen by onOutputError, which closes the connection.
      roomLeft = output.write(batch.joined(), written);
    } catch (error) {
      // The stream cannot be written any more: nothing more can be answered.
      writing -= 1;
      const failure = error instanceof Error ? error : new Error(String(error));
      batch.reject(failure);
      transport.onerror?.(failure);
      void transport.close();
      return;
    }
    for (const id of batch.answers) settle(id);
    if (roomLeft) batch.resolve();
    else whenDrained().then(batch.resolve, batch.reject);
  };

  const detachInput = (): void => {
    input.off('data', onData);
    input.off('end', onEnd);
    input.off('close', onEnd);
    input.off('error', onInputError);
    input.pause();
  };

  const transport: StdioLineTransport = {
    start() {
      input.on('data', onData);
      input.on('end', onEnd);
      input.on('close', onEnd);
      input.on('error', onInputError);
      // Stays attached after close: a late EPIPE must not become an uncaught exception.
      output.on('error', onOutputError);
      if (input.readableEnded || input.destroyed) setImmediate(onEnd);
      return Promise.resolve();
    },
    send(message) {
      if (closed) return Promise.reject(new Error('the stdio connection is closed'));
      const id = idOf(message);
      const text = serializeForWire(message, '', '\n');
      if (queued && queued.length + text.length > maxBatchLength) flush();
      if (!queued) {
        queued = new Batch();
        process.nextTick(flush);
      }
      const batch = queued;
      batch.add(text);
      // An answer: it has an id and no method. Anything else is written at once.
      if (id !== undefined && methodOf(message) === undefined) batch.answers.push(id);
      else flush();
      return batch.written;
    },
    close() {
      if (closed) return Promise.resolve();
      // What was sent before the close is still written.
      flush();
      closed = true;
      if (!inputEnded) detachInput();
      pieces = [];
      oversized = undefined;
      unanswered.clear();
      answerWaiters.release();
      writeWaiters.release();
      draining?.fail(new Error('the stdio connection is closed'));
      try {
        transport.onclose?.();
      } finally {
        options.onClosed();
      }
      return Promise.resolve();
    },
    get unanswered() {
      return unanswered.size;
    },
    whenAnswered(ms) {
      return unanswered.size === 0 || closed ? Promise.resolve(true) : answerWaiters.wait(ms);
    },
    whenWritten(ms) {
      return writing === 0 || closed ? Promise.resolve(true) : writeWaiters.wait(ms);
    },
  };
  return transport;
}

/** Who waits for something to happen, each for at most its own time. */
class Waiters {
  #waiting: (() => void)[] = [];

  /** Resolves true when released, or false after `ms`. */
  wait(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiting = this.#waiting.filter((other) => other !== waiter);
        resolve(false);
      }, ms);
      this.#waiting.push(waiter);
    });
  }

  release(): void {
    const ready = this.#waiting;
    this.#waiting = [];
    for (const waiter of ready) waiter();
  }
}

/** The messages sent in one turn, written together once the turn is over. */
class Batch {
  readonly texts: (string | Buffer)[] = [];
  /** Characters of the strings plus bytes of the buffers: what bounds one write's join. */
  length = 0;
  /** The requests these messages answer: they count as answered once written. */
  readonly answers: RequestId[] = [];
  /** What every sender of the batch waits on: the write, and a drain if stdout was full. */
  readonly written: Promise<void>;
  resolve!: () => void;
  reject!: (error: Error) => void;

  constructor() {
    this.written = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // A sender that does not wait must not make a failed write an unhandled rejection.
    this.written.catch(() => {});
  }

  add(text: string | Buffer): void {
    this.texts.push(text);
    this.length += text.length;
  }

  /** The bytes of one write: strings joined, or bytes when a kept page is among them. */
  joined(): string | Buffer {
    const { texts } = this;
    if (texts.length === 1) return texts[0]!;
    if (texts.every((text) => typeof text === 'string')) return texts.join('');
    return Buffer.concat(texts.map((text) => (typeof text === 'string' ? Buffer.from(text) : text)));
  }
}

/** What could be read of a message too long to keep: its top-level id and method. */
export interface Envelope {
  id?: RequestId;
  method?: string;
}

export interface EnvelopeScanner {
  /** The next bytes of the line. */
  scan(bytes: Uint8Array): void;
  envelope(): Envelope;
}

const quote = 0x22;
const backslash = 0x5c;
const colon = 0x3a;
const comma = 0x2c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
/** Longest id or method value kept while scanning; a longer one counts as unreadable. */
const maxCapturedBytes = 1024;

/** Adds a byte to a captured value; a value that grows too long is dropped (unreadable). */
function keep(capture: number[] | undefined, byte: number): number[] | undefined {
  if (!capture || capture.length >= maxCapturedBytes) return undefined;
  capture.push(byte);
  return capture;
}

const isWhitespace = (byte: number): boolean => byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;

/**
 * Reads a JSON object's top-level `id` and `method` as its bytes stream past, keeping only
 * those two values: an `id` nested inside `params` is not the message's. Structural bytes are
 * ASCII and never occur inside a multi-byte UTF-8 sequence, so bytes can be scanned directly.
 */
export function createEnvelopeScanner(): EnvelopeScanner {
  let started = false;
  let finished = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let expectingKey = true;
  // The key being read, the key whose value follows, and that value's bytes when it matters.
  let keyBytes: number[] | undefined;
  let key = '';
  let capture: number[] | undefined;
  const raw = new Map<string, number[] | undefined>();

  const endValue = (): void => {
    if (key === 'id' || key === 'method') raw.set(key, capture);
    capture = undefined;
    key = '';
  };

  const scanByte = (byte: number): void => {
    if (!started) {
      if (isWhitespace(byte)) return;
      if (byte !== openBrace) {
        finished = true;
        return;
      }
      started = true;
      depth = 1;
      return;
    }
    if (inString) {
      capture = keep(capture, byte);
      if (escaped) escaped = false;
      else if (byte === backslash) escaped = true;
      else if (byte === quote) {
        inString = false;
        if (keyBytes) {
          key = decodeString(keyBytes) ?? '';
          keyBytes = undefined;
        }
        return;
      }
      if (keyBytes && keyBytes.length <= maxCapturedBytes) keyBytes.push(byte);
      return;
    }
    if (depth === 1 && expectingKey) {
      if (byte === quote) {
        inString = true;
        keyBytes = [];
      } else if (byte === colon) {
        expectingKey = false;
        if (key === 'id' || key === 'method') capture = [];
      } else if (byte === closeBrace) {
        finished = true;
      }
      return;
    }
    if (depth === 1 && (byte === comma || byte === closeBrace)) {
      endValue();
      expectingKey = true;
      if (byte === closeBrace) finished = true;
      return;
    }
    capture = keep(capture, byte);
    if (byte === quote) inString = true;
    else if (byte === openBrace || byte === openBracket) depth += 1;
    else if (byte === closeBrace || byte === closeBracket) depth -= 1;
  };

  return {
    scan(bytes) {
      // Where the next quote and backslash are in this chunk (-1: none left); found once each.
      let nextQuote = -2;
      let nextBackslash = -2;
      let index = 0;
      while (index < bytes.length && !finished) {
        // Inside a string nobody keeps, only a quote or a backslash matters: jump to it.
        if (inString && !escaped && !capture && !keyBytes) {
          if (nextQuote !== -1 && nextQuote < index) nextQuote = bytes.indexOf(quote, index);
          if (nextBackslash !== -1 && nextBackslash < index) nextBackslash = bytes.indexOf(backslash, index);
          const stops = [nextQuote, nextBackslash].filter((stop) => stop !== -1);
          if (stops.length === 0) return;
          index = Math.min(...stops);
        }
        scanByte(bytes[index]!);
        index += 1;
      }
    },
    envelope() {
      const id = parseCaptured(raw.get('id'));
      const method = parseCaptured(raw.get('method'));
      return {
        ...((typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) && { id }),
        ...(typeof method === 'string' && { method }),
      };
    },
  };
}

function decodeString(bytes: number[]): string | undefined {
  return parseCaptured([quote, ...bytes, quote]) as string | undefined;
}

function parseCaptured(bytes: number[] | undefined): unknown {
  if (!bytes) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
