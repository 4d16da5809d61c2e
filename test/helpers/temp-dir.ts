// A scratch folder for the tests of a file or describe block: made before and removed after
// each test (the default) or the whole block ('all'), so a test file need not write the hooks.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

export interface TempDir {
  /** The folder's path; valid inside hooks and tests registered after useTempDir. */
  readonly path: string;
}

/**
 * Registers hooks that make a folder `tmpdir()/PREFIXxxxxxx` and remove it with all it holds.
 * Call it before the block's other hooks: its removal then runs after theirs (hooks stack).
 */
export function useTempDir(prefix: string, lifetime: 'each' | 'all' = 'each'): TempDir {
  let path: string | undefined;
  (lifetime === 'each' ? beforeEach : beforeAll)(async () => {
    path = await mkdtemp(join(tmpdir(), prefix));
  });
  (lifetime === 'each' ? afterEach : afterAll)(async () => {
    if (path !== undefined) await rm(path, { recursive: true, force: true });
    path = undefined;
  });
  return {
    get path(): string {
      if (path === undefined) throw new Error(`useTempDir('${prefix}'): no folder outside its hooks and tests`);
      return path;
    },
  };
}
