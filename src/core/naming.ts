// Exposed tool names: `<plugin>__<tool>` by default, always matching ^[a-zA-Z0-9_-]{1,64}$,
// shortened deterministically (hash suffix) when too long.
import { createHash } from 'node:crypto';

export const exposedNamePattern = /^[a-zA-Z0-9_-]{1,64}$/;
export const maxExposedNameLength = 64;
export const prefixModes = ['always', 'conditional', 'never'] as const;
export type PrefixMode = (typeof prefixModes)[number];

export interface NamingOptions {
  prefix: PrefixMode;
  /** Names longer than this are shortened; at most 64. */
  maxLength: number;
}

export const defaultNaming: NamingOptions = { prefix: 'always', maxLength: maxExposedNameLength };

const separator = '__';

/** Replaces every character outside [A-Za-z0-9_-] with `_`; never empty. */
export function toSafeName(raw: string): string {
  const safe = raw.replace(/[^A-Za-z0-9_-]/g, '_');
  return safe.length > 0 ? safe : '_';
}

/** Keeps names within `maxLength`: a readable head plus 8 hex digits of the full name's SHA-256. */
export function shortenName(name: string, maxLength: number): string {
  if (name.length <= maxLength) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  const head = name.slice(0, Math.max(1, maxLength - hash.length - 1)).replace(/[_-]+$/, '');
  return `${head}_${hash}`;
}

export function toExposedName(pluginId: string, toolName: string, withPrefix: boolean, maxLength: number): string {
  const bare = toSafeName(toolName);
  const full = withPrefix ? `${toSafeName(pluginId)}${separator}${bare}` : bare;
  return shortenName(full, Math.min(maxLength, maxExposedNameLength));
}

/**
 * Names a set of plugin items (tools, prompts) under one naming setting and groups them by
 * exposed name, in input order; a group of more than one is a collision for the caller to settle.
 */
export function groupByExposedName<T>(items: readonly T[], naming: NamingOptions, nameOf: (item: T) => { pluginId: string; name: string }): Map<string, T[]> {
  const bareCounts = new Map<string, number>();
  for (const item of items) {
    const bare = toSafeName(nameOf(item).name);
    bareCounts.set(bare, (bareCounts.get(bare) ?? 0) + 1);
  }
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const { pluginId, name } = nameOf(item);
    const withPrefix = naming.prefix === 'always' || (naming.prefix === 'conditional' && (bareCounts.get(toSafeName(name)) ?? 0) > 1);
    const exposed = toExposedName(pluginId, name, withPrefix, naming.maxLength);
    const group = groups.get(exposed);
    if (group) group.push(item);
    else groups.set(exposed, [item]);
  }
  return groups;
}
