// Small shared test helpers: reading result text, and waiting for a file a plugin writes.
import { readFile } from 'node:fs/promises';

/** The text blocks of a tool result, joined by newlines. */
export function textOf(result: { content?: unknown }): string {
  const content = (result.content ?? []) as { type?: string; text?: string }[];
  return content.map((block) => block.text ?? '').join('\n');
}

/** The file's content once it exists and is not empty, or undefined after `timeoutMs`. */
export async function waitForFile(path: string, timeoutMs: number): Promise<string | undefined> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    // A file being written may be seen created but still empty (another process's writeFileSync).
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text !== '') return text;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return undefined;
}
