// The last load answer of a Python plugin, kept in the cache folder and keyed by a
// fingerprint of its sources and config, so a restarted toolport can list the tools at
// once and start the Python host in the background (a host start costs 0.1 s or more).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hashFileStats, listFingerprintFiles, writeFileAtomic } from '../../core/files.js';
import { parsedOnce } from '../../core/format.js';
import { loadResultSchema, type LoadResult } from './manifest.js';

/**
 * A digest of everything the load answer may depend on: the plugin's Python files (the
 * package, or the file's folder), toolport's own host files, and the config given. Read
 * synchronously: at start the main thread is busy loading the other plugins, and each awaited
 * `stat` would wait for it (a few microseconds each this way, for at most 2,000 files).
 */
export function fingerprintSources(pluginPath: string, isPackage: boolean, hostScript: string, config: unknown): string {
  const files: string[] = [];
  const python = (name: string): boolean => name.endsWith('.py');
  listFingerprintFiles(isPackage ? pluginPath : dirname(pluginPath), files, { recursive: isPackage, accept: python });
  listFingerprintFiles(dirname(hostScript), files, { recursive: true, accept: python });
  files.sort();
  const hash = createHash('sha256').update(JSON.stringify(config));
  hashFileStats(hash, files);
  return hash.digest('hex');
}

export function cacheFileFor(cacheDir: string, pluginPath: string, python: string): string {
  const key = createHash('sha256').update(`${pluginPath}\0${python}`).digest('hex').slice(0, 32);
  return join(cacheDir, 'python', `${key}.json`);
}

/** The kept answer for `fingerprint`, read synchronously beside the fingerprint (one small file). */
export function readLoadCache(file: string, fingerprint: string): LoadResult | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { fingerprint?: unknown; result?: unknown };
    if (parsed.fingerprint !== fingerprint) return undefined;
    const result = loadResultSchema.safeParse(parsed.result, parsedOnce);
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeLoadCache(file: string, fingerprint: string, result: LoadResult): Promise<void> {
  await writeFileAtomic(file, JSON.stringify({ fingerprint, result }));
}
