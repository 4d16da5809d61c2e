// Small text helpers for messages that say where a problem is: config paths such as
// `plugins[2].path`, zod issues one per line (with "did you mean" for misspelt keys), and
// telling a URL from a file path.
import type { z } from 'zod';

/** `plugins[2].path` from ['plugins', 2, 'path']. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** Edit distance with transpositions (optimal string alignment), for spotting typos. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j += 1) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = rows[i]!;
      row[j] = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[a.length]![b.length]!;
}

const normalise = (word: string): string => word.toLowerCase().replace(/[-_\s]/g, '');

/**
 * The candidate a misspelt word was most likely meant to be: a small edit away, the same
 * word in another case style (`timeout_seconds` → `timeoutSeconds`), or a longer name it
 * starts (`timeout` → `timeout_secs`). Undefined when nothing is close.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const wanted = normalise(word);
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const plain = normalise(candidate);
    let score: number;
    if (plain === wanted) score = 0;
    else if (wanted.length >= 4 && (plain.startsWith(wanted) || wanted.startsWith(plain))) score = 1;
    else {
      const distance = editDistance(wanted, plain);
      if (distance > Math.max(1, Math.floor(Math.min(wanted.length, plain.length) / 3))) continue;
      score = 1 + distance;
    }
    if (!best || score < best.score) best = { candidate, score };
  }
  return best?.candidate;
}

/** ` (did you mean "x"?)`, or nothing when no candidate is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}

type AnySchema = z.core.$ZodType;

/** The schemas an object value at `path` under `schema` may follow (unions give several). */
function schemasAt(schema: AnySchema, path: readonly PropertyKey[]): AnySchema[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  const inner = (key: string): AnySchema[] => (def[key] ? schemasAt(def[key] as AnySchema, path) : []);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return inner('innerType');
    case 'pipe':
      return inner('in');
    case 'union':
      return (def.options as AnySchema[]).flatMap((option) => schemasAt(option, path));
    default:
      break;
  }
  if (path.length === 0) return [schema];
  const [head, ...rest] = path;
  if (def.type === 'object') {
    const child = (def.shape as Record<string, AnySchema>)[String(head)];
    return child ? schemasAt(child, rest) : [];
  }
  if (def.type === 'array') return schemasAt(def.element as AnySchema, rest);
  if (def.type === 'record') return schemasAt(def.valueType as AnySchema, rest);
  return [];
}

/** The keys an object at `path` under `schema` may have. */
export function knownKeysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  return schemasAt(schema, path).flatMap((candidate) => {
    const def = candidate._zod.def as unknown as { type: string; shape?: Record<string, unknown> };
    return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
  });
}

/** One problem found in a config-like value: where it is, and what is wrong. */
export interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  /** For an unknown key: the key itself (in the object at `path`), so its line can be found. */
  readonly key?: string;
}

/**
 * The zod issues as problems, one per unknown key; with `schema` (the one that was parsed),
 * an unknown key says which known key it was probably meant to be.
 */
export function toIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = [], schema?: AnySchema): Issue[] {
  return issues.flatMap((issue): Issue[] => {
    if (issue.code === 'unrecognized_keys') {
      const known = schema ? knownKeysAt(schema, issue.path) : [];
      return issue.keys.map((key) => ({ path: [...prefix, ...issue.path], key, message: `unknown key "${key}"${didYouMean(key, known)}` }));
    }
    return [{ path: [...prefix, ...issue.path], message: issue.message }];
  });
}

/** `path: message`, one line per issue; `where` may put a `file:line:column` in front. */
export function formatIssues(issues: readonly Issue[], where?: (issue: Issue) => string | undefined): string[] {
  return issues.map((issue) => {
    const place = where?.(issue);
    return `${place ? `${place}: ` : ''}${formatPath(issue.path)}: ${issue.message}`;
  });
}

/** A 1-based line and column in a text. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** The line and column of a character offset in a text. */
export function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, Math.max(0, offset));
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}

/**
 * Parse options for a schema read once or a few times per start (the config, plugin blocks,
 * manifests, kept load answers): zod compiles a fast path for each object schema on its first
 * parse, which costs more than one parse saves (the examples' config: 10–15 → 5–8 ms).
 */
export const parsedOnce = { jitless: true } as const;

/** One line per zod issue, each starting with where it is (under `prefix`). */
export function formatZodIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = [], schema?: AnySchema): string[] {
  return formatIssues(toIssues(issues, prefix, schema));
}

/** Whether a plugin path is an http(s) URL rather than a file or folder. */
export function isUrl(path: string): boolean {
  return /^https?:\/\//i.test(path);
}
