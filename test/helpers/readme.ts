// The fenced code blocks of README.md, with the section each is in and the marker comment
// before it, if any (`<!-- readme-test: partial: why -->` for a block that is deliberately
// not complete on its own).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './toolport-process.js';

export interface ReadmeBlock {
  /** The fence's info string: yaml, json, js, ts, toml, sh, or ''. */
  readonly lang: string;
  readonly text: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The nearest heading above. */
  readonly section: string;
  /** The reason given by a `<!-- readme-test: partial: … -->` line just before the fence. */
  readonly partial?: string;
}

export async function readmeBlocks(): Promise<ReadmeBlock[]> {
  const lines = (await readFile(join(repoRoot, 'README.md'), 'utf8')).split('\n');
  const blocks: ReadmeBlock[] = [];
  let section = '';
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (/^#{1,4} /.test(line)) section = line.replace(/^#+ /, '');
    const fence = /^```(\S*)\s*$/.exec(line);
    if (!fence) continue;
    const start = index;
    const body: string[] = [];
    for (index += 1; index < lines.length && !(lines[index] ?? '').startsWith('```'); index += 1) body.push(lines[index] ?? '');
    let before = start - 1;
    while (before >= 0 && (lines[before] ?? '').trim() === '') before -= 1;
    const marker = /^<!-- readme-test: partial: (.+) -->$/.exec(lines[before] ?? '');
    blocks.push({ lang: fence[1] ?? '', text: `${body.join('\n')}\n`, line: start + 1, section, ...(marker?.[1] && { partial: marker[1] }) });
  }
  return blocks;
}
