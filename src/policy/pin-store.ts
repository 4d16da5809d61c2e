// Where pins are kept: behind a small interface, so another store could replace the file
// (pins stay in this file even when replicas share their other state in Redis). The file
// store keeps one JSON file in the state folder, written whole to a temporary file and
// renamed over the old one (readers never see half a file), read again before every change
// (another process, `toolport pins approve`, may have changed it), and watched so a running
// server hears about approvals made elsewhere.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/files.js';

/** What a tool's pin is computed over: what a model reads and what the policy goes by. */
export interface PinnedDefinition {
  /** The plugin's own name for the tool. */
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly inputSchema: unknown;
  readonly outputSchema?: unknown;
  readonly annotations?: unknown;
  readonly permissions?: readonly string[];
  readonly sideEffects?: boolean;
}

export interface ToolPin {
  /** SHA-256 of the definition in canonical JSON. */
  readonly digest: string;
  readonly definition: PinnedDefinition;
  readonly pinnedAt: string;
  /** Who accepted it (`toolport pins approve`); absent for a pin taken at first sight. */
  readonly approvedBy?: string;
}

/** A definition seen that differs from the pin (or has none): what `pins diff` shows and `pins approve` accepts. */
export interface SeenDefinition {
  readonly digest: string;
  readonly definition: PinnedDefinition;
  readonly seenAt: string;
  readonly change: 'changed' | 'new';
}

export interface PluginPins {
  /** The plugin's id (the prefix of its tools). */
  readonly id: string;
  /** The plugin's file, folder or URL, as the config names it. */
  readonly source: string;
  tools: Record<string, ToolPin>;
  pending: Record<string, SeenDefinition>;
}

export interface PinFile {
  version: 1;
  /** By plugin key (id and source). */
  plugins: Record<string, PluginPins>;
}

export interface PinStore {
  /** Where the pins are, for messages. */
  readonly location: string;
  /** The pins as stored now. */
  read(): Promise<PinFile>;
  /** Reads the current pins, applies `change` and stores the result (changes in one process run in order). */
  update(change: (file: PinFile) => void): Promise<PinFile>;
  /** Calls `listener` when the stored pins may have changed (also by another process). Returns the function that stops it. */
  watch(listener: () => void): () => void;
}

export const emptyPinFile = (): PinFile => ({ version: 1, plugins: {} });

function parsePinFile(text: string, path: string): PinFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message}); fix or remove it (every tool is then pinned again at first sight)`);
  }
  const file = parsed as Partial<PinFile>;
  if (typeof file !== 'object' || file === null || file.version !== 1 || typeof file.plugins !== 'object' || file.plugins === null) {
    throw new Error(`${path} is not a toolport pin file (expected {"version": 1, "plugins": {...}})`);
  }
  for (const plugin of Object.values(file.plugins)) {
    plugin.tools ??= {};
    plugin.pending ??= {};
  }
  return file as PinFile;
}

/** The file store: `pins.json` in the state folder. */
export function createFilePinStore(stateDir: string): PinStore {
  const path = join(stateDir, 'pins.json');
  let tail: Promise<unknown> = Promise.resolve();

  async function read(): Promise<PinFile> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyPinFile();
      throw error;
    }
    return parsePinFile(text, path);
  }

  return {
    location: path,
    read,
    update(change) {
      const next = tail.then(async () => {
        const file = await read();
        change(file);
        await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
        return file;
      });
      tail = next.catch(() => {});
      return next;
    },
    watch(listener) {
      let watcher: FSWatcher | undefined;
      let timer: NodeJS.Timeout | undefined;
      const name = basename(path);
      try {
        watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
          if (file !== null && file !== name) return;
          clearTimeout(timer);
          timer = setTimeout(listener, 50);
          timer.unref();
        });
        watcher.on('error', () => watcher?.close());
      } catch {
        // No file watching here: approvals made elsewhere are seen at the next start.
      }
      return () => {
        clearTimeout(timer);
        watcher?.close();
      };
    },
  };
}
