// The persistent stores behind the Asterai host API: a key-value store (app-wide, or per
// user when the plugin passes a user id) and a local embedding store. Each plugin has its
// own files; writes are atomic (temporary file, then rename) and run one at a time.
import { readFile } from 'node:fs/promises';
import type { SharedState } from '../../core/shared-state.js';
import { writeFileAtomic } from '../../core/files.js';
import type { EmbeddingScore } from './host-api.js';

/** Bounds that keep one plugin from filling the disk. */
const maxStoreBytes = 16 * 1024 * 1024;
const maxSearchResults = 10;

class JsonFile<T> {
  private data: T | undefined;
  private loading: Promise<T> | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly empty: () => T,
    private readonly isValid: (value: unknown) => value is T,
  ) {}

  async read(): Promise<T> {
    if (this.data) return this.data;
    this.loading ??= (async () => {
      let text: string;
      try {
        text = await readFile(this.path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.empty();
        throw error;
      }
      const parsed: unknown = JSON.parse(text);
      // Refuse to overwrite a file we cannot read: the plugin's data must not be lost.
      if (!this.isValid(parsed)) throw new Error(`the store ${this.path} is not in the expected format`);
      return parsed;
    })();
    try {
      this.data = await this.loading;
    } finally {
      this.loading = undefined;
    }
    return this.data;
  }

  /** Applies a change and persists it; the change is undone if it cannot be written. */
  async update(change: (data: T) => () => void): Promise<void> {
    const data = await this.read();
    const undo = change(data);
    const text = JSON.stringify(data);
    if (text.length > maxStoreBytes) {
      undo();
      throw new Error(`the store would grow past ${maxStoreBytes / 1024 / 1024} MiB`);
    }
    const write = this.writing.then(async () => {
      await writeFileAtomic(this.path, text);
    });
    this.writing = write.catch(() => {});
    try {
      await write;
    } catch (error) {
      undo();
      throw error;
    }
  }
}

/** Sets an own property, also for keys such as `__proto__` that plain assignment would not store. */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

interface KvData {
  app: Record<string, string>;
  users: Record<string, Record<string, string>>;
}

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === 'string');
}

function isKvData(value: unknown): value is KvData {
  if (typeof value !== 'object' || value === null) return false;
  const { app, users } = value as Partial<KvData>;
  return isStringMap(app) && typeof users === 'object' && users !== null && Object.values(users).every(isStringMap);
}

export interface KvStore {
  get(key: string, userId: string | undefined): Promise<string | undefined>;
  /** `undefined` deletes the key. */
  set(key: string, value: string | undefined, userId: string | undefined): Promise<void>;
}

export function createKvStore(path: string): KvStore {
  const file = new JsonFile<KvData>(path, () => ({ app: {}, users: {} }), isKvData);
  const scopeOf = (data: KvData, userId: string | undefined, create: boolean): Record<string, string> | undefined => {
    if (userId === undefined) return data.app;
    if (!Object.hasOwn(data.users, userId) && create) setOwn(data.users, userId, {});
    return Object.hasOwn(data.users, userId) ? data.users[userId] : undefined;
  };
  return {
    async get(key, userId) {
      const scope = scopeOf(await file.read(), userId, false);
      return scope && Object.hasOwn(scope, key) ? scope[key] : undefined;
    },
    async set(key, value, userId) {
      await file.update((data) => {
        const scope = scopeOf(data, userId, true) as Record<string, string>;
        const had = Object.hasOwn(scope, key);
        const previous = scope[key];
        if (value === undefined) delete scope[key];
        else setOwn(scope, key, value);
        return () => {
          if (had) setOwn(scope, key, previous as string);
          else delete scope[key];
        };
      });
    },
  };
}

/** Largest value one kv-set may store in the shared store (it is held in Redis memory). */
const maxSharedValueBytes = 1024 * 1024;

/**
 * The key-value store in the shared state: one map per plugin, the field naming the scope
 * (app-wide, or the user id) and the key. Unreachable → the host call fails (the guest sees an error).
 */
export function createSharedKvStore(state: SharedState, storeId: string): KvStore {
  const map = `wasm-kv:${storeId}`;
  const fieldOf = (key: string, userId: string | undefined): string => (userId === undefined ? `app\u0000${key}` : `user\u0000${userId}\u0000${key}`);
  return {
    get: (key, userId) => state.mapGet(map, fieldOf(key, userId)),
    async set(key, value, userId) {
      if (value !== undefined && Buffer.byteLength(value) > maxSharedValueBytes) throw new Error(`a value larger than ${maxSharedValueBytes / 1024 / 1024} MiB cannot be stored`);
      await state.mapSet(map, fieldOf(key, userId), value);
    },
  };
}

// ---------------------------------------------------------------------------------------
// Embeddings

interface EmbeddingData {
  collections: Record<string, { content: string; storedAt: string }[]>;
}

function isEmbeddingData(value: unknown): value is EmbeddingData {
  if (typeof value !== 'object' || value === null) return false;
  const { collections } = value as Partial<EmbeddingData>;
  return (
    typeof collections === 'object' &&
    collections !== null &&
    Object.values(collections).every((items) => Array.isArray(items) && items.every((item: { content?: unknown }) => typeof item.content === 'string'))
  );
}

/**
 * The vector of a text: term frequencies of its words and of their character trigrams
 * (so "burgers" is close to "burger"), after lowercasing and removing accents. Lexical
 * similarity, not semantic: no model is downloaded or run.
 */
export function toTermVector(text: string): Map<string, number> {
  const vector = new Map<string, number>();
  const add = (feature: string, weight: number): void => void vector.set(feature, (vector.get(feature) ?? 0) + weight);
  const words = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
  for (const word of words) {
    add(`w:${word}`, 1);
    const padded = `#${word}#`;
    for (let index = 0; index + 3 <= padded.length; index++) add(`t:${padded.slice(index, index + 3)}`, 0.5);
  }
  return vector;
}

/** Cosine similarity of two term vectors: 1 for the same words, 0 for nothing in common. */
export function cosineSimilarity(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (const [feature, weight] of a) {
    normA += weight * weight;
    const other = b.get(feature);
    if (other !== undefined) dot += weight * other;
  }
  for (const weight of b.values()) normB += weight * weight;
  if (normA === 0 || normB === 0) return 0;
  return dot / Math.sqrt(normA * normB);
}

export interface EmbeddingStore {
  store(content: string, collection: string): Promise<void>;
  search(query: string, collection: string): Promise<EmbeddingScore[]>;
}

export function createEmbeddingStore(path: string): EmbeddingStore {
  const file = new JsonFile<EmbeddingData>(path, () => ({ collections: {} }), isEmbeddingData);
  const vectors = new Map<string, Map<string, number>>();
  const vectorOf = (content: string): Map<string, number> => {
    let vector = vectors.get(content);
    if (!vector) {
      vector = toTermVector(content);
      vectors.set(content, vector);
    }
    return vector;
  };
  return {
    async store(content, collection) {
      await file.update((data) => {
        if (!Object.hasOwn(data.collections, collection)) setOwn(data.collections, collection, []);
        const items = data.collections[collection] as EmbeddingData['collections'][string];
        items.push({ content, storedAt: new Date().toISOString() });
        return () => void items.pop();
      });
    },
    async search(query, collection) {
      const data = await file.read();
      const items = Object.hasOwn(data.collections, collection) ? (data.collections[collection] ?? []) : [];
      const wanted = toTermVector(query);
      return items
        .map((item) => ({ item, score: cosineSimilarity(wanted, vectorOf(item.content)) }))
        .filter(({ score }) => score > 0)
        .sort((a, b) => b.score - a.score)
        .slice(0, maxSearchResults)
        .map(({ item, score }) => ({
          score: Math.fround(score),
          payload: [
            ['content', item.content],
            ['collection', collection],
            ['stored-at', item.storedAt],
          ],
        }));
    },
  };
}
