// The example config in config/ stays valid as the schema changes, and works where its
// header says to put it: copied to the repository root as ./toolport.yaml.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { binPath, repoRoot } from '../helpers/toolport-process.js';

const example = join(repoRoot, 'config', 'toolport.example.yaml');

it('config/toolport.example.yaml loads', async () => {
  const { config } = await loadConfigFile(example, {});
  expect(config.plugins).toHaveLength(1);
  expect(config.policy.rules[0]).toMatchObject({ tool: 'notebook__text_stats', action: 'allow' });
});

it('copied to the repository root as ./toolport.yaml, it passes toolport check', async () => {
  // A stand-in for the repository root: the copy, with the examples beside it.
  const root = await mkdtemp(join(tmpdir(), 'toolport-example-'));
  try {
    await copyFile(example, join(root, 'toolport.yaml'));
    await symlink(join(repoRoot, 'examples'), join(root, 'examples'));
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [binPath, 'check'], { cwd: root });
    expect(stdout).toBe('ok: 4 tools\n');
    // Nothing but the note saying which tool asks before it runs (add_note writes).
    expect(stderr).toBe('info: notebook__add_note asks for approval before it runs (policy.sideEffects: ask (the tool has side effects))\n');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

it('examples/toolport.yaml (what npm start serves): only the tools that change something ask (README, side effects)', async () => {
  // Through the launcher npm start uses, so the Trailhead API is there and its tools load.
  const launcher = join(repoRoot, 'examples', 'http', 'with-api.mjs');
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [launcher, process.execPath, binPath, 'check', '--config', join(repoRoot, 'examples', 'toolport.yaml')], { cwd: repoRoot });
  expect(stdout).toMatch(/^ok: \d+ tools\n$/);
  const asking = [...stderr.matchAll(/^info: (\S+) asks for approval before it runs/gm)].map((match) => match[1]).sort();
  expect(asking).toEqual(['bakery__place-order', 'examples_reading_list__save_link', 'notebook__add_note', 'trailhead__favourite_trail']);
}, 60_000);
