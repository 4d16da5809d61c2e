// Helpers for the command adapter's tests: skill folders written on the fly, processes found
// by their working folder or a marker, the sandbox settings, and result text.
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { ToolOutcome } from '../../../src/core/tool.js';

/** pidsWithCwd: the processes whose working folder is `dir` (or inside it). */
export { pidsInFolder as pidsWithCwd, pidsWithMarker, waitFor } from '../../helpers/processes.js';

export interface SkillFiles {
  /** SKILL.md text; a minimal one naming the skill when left out. */
  skillMd?: string;
  agentToml: string;
  skillToml?: string;
  /** Extra files, path → text; names ending in .sh are made executable. */
  files?: Record<string, string>;
}

export async function makeScratch(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `toolport-command-${prefix}-`));
}

/** Writes a skill folder `name` under `root` and returns its path. */
export async function writeSkill(root: string, name: string, files: SkillFiles): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'SKILL.md'), files.skillMd ?? `---\nname: ${name}\nversion: 1.0.0\ndescription: test skill\n---\n`);
  await writeFile(join(dir, 'agent.toml'), files.agentToml);
  if (files.skillToml !== undefined) await writeFile(join(dir, 'skill.toml'), files.skillToml);
  for (const [path, text] of Object.entries(files.files ?? {})) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, text);
    if (path.endsWith('.sh')) await chmod(full, 0o755);
  }
  return dir;
}

export function textOf(result: CallToolResult | ToolOutcome): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The built library (tests that run a fresh Node process import it from here). */
export const repoDist = new URL('../../../dist', import.meta.url).pathname;

export { bwrapWorks as sandboxWorks, sandboxForTests } from '../../helpers/sandbox.js';
