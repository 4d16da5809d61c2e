// Small text helpers for messages that say where a problem is: config paths such as
// `plugins[2].path`, zod issues one per line, and telling a URL from a file path.
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

/** One line per zod issue, each starting with where it is (under `prefix`). */
export function formatZodIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string[] {
  return issues.map((issue) => {
    const where = formatPath([...prefix, ...issue.path]);
    if (issue.code === 'unrecognized_keys') {
      return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    return `${where}: ${issue.message}`;
  });
}

/** Whether a plugin path is an http(s) URL rather than a file or folder. */
export function isUrl(path: string): boolean {
  return /^https?:\/\//i.test(path);
}
