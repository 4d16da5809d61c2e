// The transpile cache: a component's jco output and its description, stored under the
// SHA-256 of its bytes (and the transpiler version), so a restart lists tools and starts
// workers without transpiling or reading WIT again. Entries are written to a temporary
// folder and renamed into place, so a crash never leaves half an entry behind; an entry is
// used only when every file in it is still the file written then (same device, inode, size,
// modification and change time: a write changes the change time, and nobody but root can set
// it back). A component file seen before with the same fingerprint is not read or hashed again.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ComponentDescription } from './describe.js';
import type { TranspileReply, TranspileRequest } from './transpile-worker.js';
import { workerEntry } from './worker-entry.js';
import { writeFileAtomic } from '../../core/files.js';

/** Bump when the cached shape or the transpile options change. */
const cacheFormat = 3;

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

/** The folder of one component's cache entry: its hash, the transpiler and the cache format. */
const entryDirOf = (cacheDir: string, sha256: string): string => join(cacheDir, `${sha256}-jco${transpilerVersion}-f${cacheFormat}`);

export interface CacheEntry {
  readonly format: number;
  readonly sha256: string;
  readonly transpiler: string;
  /** The transpiled ES module, relative to the entry folder. */
  readonly entry: string;
  /** Core Wasm modules the entry asks for, relative to the entry folder. */
  readonly coreModules: string[];
  /** The fingerprint of every file of the entry as written, by its path relative to the entry folder. */
  readonly files: Record<string, string>;
  readonly description: ComponentDescription;
}

export interface CachedComponent {
  readonly dir: string;
  readonly meta: CacheEntry;
  /** True when nothing had to be transpiled. */
  readonly hit: boolean;
}

export function sha256Of(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Which file this is, and which version of it: device, inode, size, modification and change time (ns). */
async function fingerprintOf(path: string): Promise<string> {
  const info = await stat(path, { bigint: true });
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
}

async function readEntry(dir: string, sha256: string): Promise<CacheEntry | undefined> {
  try {
    const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as CacheEntry;
    if (meta.format !== cacheFormat || meta.sha256 !== sha256 || meta.transpiler !== transpilerVersion) return undefined;
    // Code that changed on disk since it was cached is not run: the entry is made again.
    const names = [meta.entry, ...meta.coreModules];
    const intact = await Promise.all(names.map(async (name) => meta.files[name] !== undefined && (await fingerprintOf(join(dir, name))) === meta.files[name]));
    return intact.every(Boolean) ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** Reads and transpiles a component in a worker thread (seconds of blocking work for big ones). */
async function transpileInWorker(bytes: Uint8Array): Promise<{ description: ComponentDescription; files: [string, Uint8Array][] }> {
  const worker = new Worker(await workerEntry('transpile-worker'), { workerData: { bytes } satisfies TranspileRequest, stdout: true, stderr: true });
  // jco's own diagnostics are not the plugin's output; the error in the reply says what failed.
  worker.stdout.resume();
  worker.stderr.resume();
  try {
    const reply = await new Promise<TranspileReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the transpiler stopped (exit code ${code})`)));
    });
    if (!reply.ok) throw new Error(reply.message);
    return reply;
  } finally {
    await worker.terminate();
  }
}

/** Returns the cached transpile of `bytes`, making it first (in a worker) if needed. */
export async function loadCachedComponent(bytes: Uint8Array, cacheDir: string): Promise<CachedComponent> {
  const sha256 = sha256Of(bytes);
  const dir = entryDirOf(cacheDir, sha256);
  const existing = await readEntry(dir, sha256);
  if (existing) return { dir, meta: existing, hit: true };

  const { description, files } = await transpileInWorker(bytes);
  const entry = files.map(([name]) => name).find((name) => name.endsWith('.js'));
  if (!entry) throw new Error('jco produced no JavaScript module');
  const meta: CacheEntry = {
    format: cacheFormat,
    sha256,
    transpiler: transpilerVersion,
    entry,
    coreModules: files.map(([name]) => name).filter((name) => name.endsWith('.wasm')),
    files: {},
    description,
  };

  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const staging = join(cacheDir, `.staging-${randomUUID()}`);
  try {
    await mkdir(staging, { recursive: true });
    for (const [name, content] of files) {
      await mkdir(dirname(join(staging, name)), { recursive: true });
      await writeFile(join(staging, name), content);
      // Renaming the folder below leaves its files' fingerprints as they are.
      meta.files[name] = await fingerprintOf(join(staging, name));
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

interface FileIndexRecord {
  readonly fingerprint: string;
  readonly sha256: string;
}

/**
 * The cached transpile of the component file at `path`. When the file is the one hashed on
 * an earlier start (same fingerprint), its recorded SHA-256 finds the entry without reading
 * the file; otherwise the file is read and hashed (`read` checks its bytes first).
 */
export async function loadCachedComponentFile(path: string, cacheDir: string, read: () => Promise<Uint8Array>): Promise<CachedComponent> {
  const indexFile = join(cacheDir, 'by-file', `${sha256Of(path)}.json`);
  const fingerprint = await fingerprintOf(path);
  try {
    const known = JSON.parse(await readFile(indexFile, 'utf8')) as FileIndexRecord;
    if (known.fingerprint === fingerprint) {
      const dir = entryDirOf(cacheDir, known.sha256);
      const existing = await readEntry(dir, known.sha256);
      if (existing) return { dir, meta: existing, hit: true };
    }
  } catch {
    // Not seen before, or an unreadable record: read the file.
  }
  const bytes = await read();
  const cached = await loadCachedComponent(bytes, cacheDir);
  // Recorded only if the file did not change while it was read.
  if ((await fingerprintOf(path)) === fingerprint) {
    const record: FileIndexRecord = { fingerprint, sha256: cached.meta.sha256 };
    // A record that cannot be written only costs the next start a read of the file.
    await writeFileAtomic(indexFile, JSON.stringify(record)).catch(() => {});
  }
  return cached;
}
