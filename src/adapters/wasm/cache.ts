// The transpile cache: a component's jco output and its description, stored under the
// SHA-256 of its bytes (and the transpiler version), so a restart lists tools and starts
// workers without transpiling or reading WIT again. Entries are written to a temporary
// folder and renamed into place, so a crash never leaves half an entry behind.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import type { ComponentDescription } from './describe.js';

/** Bump when the cached shape or the transpile options change. */
const cacheFormat = 1;

const require = createRequire(import.meta.url);
const transpilerVersion = ((): string => {
  try {
    const entry = require.resolve('@bytecodealliance/jco-transpile');
    const manifest = require(join(dirname(entry), '..', 'package.json')) as { version?: string };
    return manifest.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();

export interface CacheEntry {
  readonly format: number;
  readonly sha256: string;
  readonly transpiler: string;
  /** The transpiled ES module, relative to the entry folder. */
  readonly entry: string;
  /** Core Wasm modules the entry asks for, relative to the entry folder. */
  readonly coreModules: string[];
  readonly description: ComponentDescription;
}

export interface CachedComponent {
  readonly dir: string;
  readonly meta: CacheEntry;
  /** True when nothing had to be transpiled. */
  readonly hit: boolean;
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readEntry(dir: string, sha256: string): Promise<CacheEntry | undefined> {
  try {
    const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as CacheEntry;
    if (meta.format !== cacheFormat || meta.sha256 !== sha256 || meta.transpiler !== transpilerVersion) return undefined;
    return meta;
  } catch {
    return undefined;
  }
}

/**
 * Returns the cached transpile of `bytes`, making it first if needed. `describe` reads
 * the component's WIT and types on a miss.
 */
export async function loadCachedComponent(
  bytes: Uint8Array,
  cacheDir: string,
  describe: (bytes: Uint8Array) => Promise<ComponentDescription>,
): Promise<CachedComponent> {
  const sha256 = sha256Of(bytes);
  const dir = join(cacheDir, `${sha256}-jco${transpilerVersion}-f${cacheFormat}`);
  const existing = await readEntry(dir, sha256);
  if (existing) return { dir, meta: existing, hit: true };

  const description = await describe(bytes);
  const output = await transpileBytes(bytes, {
    name: 'component',
    instantiation: 'async',
    // jco then rejects bad integers and missing fields itself too (our schemas come first).
    strict: true,
    // A top-level `result` error arrives as a ComponentError with the error value.
    noComponentErrorWrapping: false,
    emitTypescriptDeclarations: false,
    // Every core module is a separate file: their memories are capped before compiling.
    base64Cutoff: 0,
  });
  const files = Object.entries(output.files);
  const entry = files.map(([name]) => name).find((name) => name.endsWith('.js'));
  if (!entry) throw new Error('jco produced no JavaScript module');
  const meta: CacheEntry = {
    format: cacheFormat,
    sha256,
    transpiler: transpilerVersion,
    entry,
    coreModules: files.map(([name]) => name).filter((name) => name.endsWith('.wasm')),
    description,
  };

  await mkdir(cacheDir, { recursive: true });
  const staging = join(cacheDir, `.staging-${randomUUID()}`);
  try {
    await mkdir(staging, { recursive: true });
    for (const [name, content] of files) {
      await mkdir(dirname(join(staging, name)), { recursive: true });
      await writeFile(join(staging, name), content);
    }
    await writeFile(join(staging, 'meta.json'), JSON.stringify(meta));
    try {
      await rename(staging, dir);
    } catch (error) {
      // Another process made the same entry meanwhile: theirs is as good as ours.
      const theirs = await readEntry(dir, sha256);
      if (!theirs) {
        await rm(dir, { recursive: true, force: true });
        await rename(staging, dir).catch(() => {
          throw error;
        });
      }
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const written = await readEntry(dir, sha256);
  return { dir, meta: written ?? meta, hit: false };
}
