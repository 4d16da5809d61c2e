// Loaded before every test file (vitest setupFiles): each file gets a state folder of its
// own, so tool pins (and other state) one file leaves never change what another file sees,
// nor what the next run or another branch's run sees. Caches stay shared (they are keyed
// by content): TOOLPORT_CACHE_DIR points at the folder they would have used anyway.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { toStateDirs } from '../../src/core/state-dir.js';

if (!process.env.TOOLPORT_STATE_DIR) {
  process.env.TOOLPORT_CACHE_DIR ??= toStateDirs(undefined).cache;
  const dir = mkdtempSync(join(tmpdir(), 'toolport-test-state-'));
  process.env.TOOLPORT_STATE_DIR = dir;
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    delete process.env.TOOLPORT_STATE_DIR;
  });
}
