// How toolport's own wires (stdio, legacy SSE) write a JSON-RPC message. One part is made
// once instead of per message: the JSON of a tools/list page the hub keeps (a catalogue of a
// thousand tools is ~350 KB of it, most of what a listing costs the server, and it changes
// only when the catalogue does). The bytes written are those JSON.stringify would write.
import { randomUUID } from 'node:crypto';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';

/** Pages of tools that stay as they are, and their JSON as UTF-8 once it was written. */
const pages = new WeakMap<readonly unknown[], Buffer | null>();

/** Stands for a kept page while the rest of the message is serialized; no client can guess it. */
const placeholder = `toolport-page-${randomUUID()}`;
const placeholderJson = JSON.stringify(placeholder);

/**
 * Lets the wires keep the JSON of a page of tools. The page, and every tool in it, must not
 * change afterwards: a changed catalogue is a new page.
 */
export function keepPageJson(page: readonly unknown[]): void {
  if (!pages.has(page)) pages.set(page, null);
}

/** The message as written on a wire: `before`, its JSON, `after`. */
export function serializeForWire(message: JSONRPCMessage, before: string, after: string): string | Buffer {
  const result = (message as { result?: unknown }).result as { tools?: unknown; toJSON?: unknown } | undefined;
  const tools = result?.tools;
  // Only plain answers take the kept page: a toJSON could move or drop the page's place.
  const kept = Array.isArray(tools) && pages.has(tools) && typeof result?.toJSON !== 'function' && typeof (message as { toJSON?: unknown }).toJSON !== 'function';
  if (!kept) return plainText(message, before, after);
  // The same members in the same order, with the page's place marked.
  const text = `${before}${JSON.stringify({ ...message, result: { ...result, tools: placeholder } })}${after}`;
  const at = text.indexOf(placeholderJson);
  if (at === -1) return plainText(message, before, after);
  let json = pages.get(tools);
  if (!json) {
    json = Buffer.from(JSON.stringify(tools));
    pages.set(tools, json);
  }
  return Buffer.concat([Buffer.from(text.slice(0, at)), json, Buffer.from(text.slice(at + placeholderJson.length))]);
}

function plainText(message: JSONRPCMessage, before: string, after: string): string {
  return `${before}${JSON.stringify(message)}${after}`;
}
