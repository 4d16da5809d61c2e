// Small file-system helpers used in several places.
import { randomUUID, type Hash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Whether something (a file or a folder) is at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a file whole or not at all: to a temporary name beside it, then renamed over it, so
 * a reader (another replica, the next start) never sees half of it. The file is the user's
 * own (0600), in a folder made private (0700) if it was missing.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o600 });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** writeFileAtomic, for a caller that cannot wait (a compile that must answer at once). */
export function writeFileAtomicSync(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: 0o600 });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** At most this many files are fingerprinted under one folder. */
const maxFingerprintFiles = 2_000;
/** Folders a fingerprint does not descend into: dependencies, caches, version control (and dot folders). */
const unfingerprinted = new Set(['node_modules', '.git', '__pycache__', '.venv', 'venv']);

/**
 * Adds to `out` the files under `folder` that `accept` takes (in every subfolder but the
 * skipped ones when `recursive`), up to 2,000. Synchronous on purpose: at start the main
 * thread is busy loading plugins, and each awaited call would wait for it.
 */
export function listFingerprintFiles(folder: string, out: string[], options: { recursive: boolean; accept?: (name: string) => boolean }): void {
  let entries;
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (out.length >= maxFingerprintFiles) return;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (options.recursive && !entry.name.startsWith('.') && !unfingerprinted.has(entry.name)) listFingerprintFiles(path, out, options);
    } else if (!options.accept || options.accept(entry.name)) {
      out.push(path);
    }
  }
}

/** Adds each file's path, size and modification time (or that it is gone) to `hash`. */
export function hashFileStats(hash: Hash, files: readonly string[]): void {
  for (const file of files) {
    try {
      const info = statSync(file);
      hash.update(`\n${file}\t${info.size}\t${info.mtimeMs}`);
    } catch {
      hash.update(`\n${file}\tgone`);
    }
  }
}
