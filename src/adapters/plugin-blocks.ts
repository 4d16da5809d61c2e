// Plugin blocks of the config, checked against the kinds' specs. Before detection a block
// without `kind` must fit at least one kind (unknown keys get a "did you mean"); once its
// kind is known, it must fit that kind. Both are config errors, with the key's path.
import { z } from 'zod';
import { didYouMean, parsedOnce, toIssues, type Issue } from '../core/format.js';
import { pluginKinds, type PluginBlock, type PluginKind } from '../core/plugin.js';
import { adapters, type AnyPluginSpec } from './index.js';

/** A kind's block with `kind` optional: what a config entry of that kind may hold. */
const blockOf = (kind: PluginKind) => adapters[kind].spec.extend({ kind: z.literal(kind).optional() });

/**
 * A config entry under `plugins`: a block of one of the kinds (`kind` may be left out and
 * is then detected from the path). Used to validate, and for the config's JSON Schema.
 */
export const pluginBlockSchema = z.union(pluginKinds.map(blockOf) as unknown as readonly [ReturnType<typeof blockOf>, ...ReturnType<typeof blockOf>[]]);

const keysOf = (kind: PluginKind): string[] => Object.keys(adapters[kind].spec.shape);

/** The kinds whose blocks have a key. */
function kindsWithKey(key: string): PluginKind[] {
  return pluginKinds.filter((kind) => keysOf(kind).includes(key));
}

const allKeys = (): Set<string> => new Set(pluginKinds.flatMap(keysOf));

const plural = (kinds: readonly string[]): string => (kinds.length === 1 ? `${kinds[0]} plugins` : `${kinds.slice(0, -1).join(', ')} and ${kinds.at(-1)} plugins`);

/** The problems of a block that fits no kind, as the user should read them. */
export function blockIssues(block: unknown, at: readonly PropertyKey[]): Issue[] {
  if (typeof block !== 'object' || block === null || Array.isArray(block)) {
    return [{ path: at, message: 'expected a plugin block such as { path: ./plugin.mjs }' }];
  }
  const entry = block as Record<string, unknown>;
  if (entry.kind !== undefined) {
    if (!(pluginKinds as readonly unknown[]).includes(entry.kind)) {
      return [{ path: [...at, 'kind'], message: `must be one of ${pluginKinds.map((kind) => `"${kind}"`).join(', ')} (or left out: the kind is detected from the path)${typeof entry.kind === 'string' ? didYouMean(entry.kind, pluginKinds) : ''}` }];
    }
    return specIssues(entry.kind as PluginKind, entry, at);
  }
  // No kind: a key no kind knows is a typo; keys of different kinds cannot all apply.
  const known = allKeys();
  const unknown = Object.keys(entry).filter((key) => !known.has(key));
  if (unknown.length > 0) return unknown.map((key) => ({ path: at, key, message: `unknown key "${key}"${didYouMean(key, known)}` }));
  const candidates = pluginKinds.map((kind) => specIssues(kind, entry, at));
  const fewest = Math.min(...candidates.map((issues) => issues.length));
  const best = candidates.filter((issues) => issues.length === fewest);
  const onlyForeignKeys = (issues: Issue[]): boolean => issues.every((issue) => issue.key !== undefined);
  if (best.length > 1 && best.every(onlyForeignKeys)) {
    const owners = Object.keys(entry).filter((key) => kindsWithKey(key).length < pluginKinds.length);
    return [{ path: at, message: `keys of different plugin kinds: ${owners.map((key) => `"${key}" (${kindsWithKey(key).join(', ')})`).join(', ')}` }];
  }
  // Among equally good fits, a kind that knows every key says more (a bad value) than one
  // that does not (a key of another kind).
  return best.find((issues) => !issues.some((issue) => issue.key !== undefined)) ?? best[0] ?? [];
}

/** The problems of a block as a block of `kind`; none when it fits. */
function specIssues(kind: PluginKind, entry: Record<string, unknown>, at: readonly PropertyKey[]): Issue[] {
  const schema = adapters[kind].spec;
  const parsed = schema.safeParse({ ...entry, kind }, parsedOnce);
  if (parsed.success) return [];
  return toIssues(parsed.error.issues, at, schema).map((issue) => {
    if (issue.key === undefined || issue.path.length !== at.length) return issue;
    const owners = kindsWithKey(issue.key);
    return owners.length > 0 ? { ...issue, message: `"${issue.key}" is a key of ${plural(owners)}, and this is a ${kind} plugin` } : issue;
  });
}

/**
 * Validates a block whose kind was detected. `folderKinds` are the kinds found in the same
 * folder entry: a key that one of them takes is left out for the others, since one block
 * configures all of them.
 */
export function toPluginSpec(
  entry: PluginBlock & { readonly kind: PluginKind },
  at: readonly PropertyKey[],
  folderKinds: readonly PluginKind[] = [],
): { spec: AnyPluginSpec; issues?: undefined } | { spec?: undefined; issues: Issue[] } {
  const own = new Set(keysOf(entry.kind));
  const shared = new Set(folderKinds.flatMap(keysOf));
  const block = Object.fromEntries(Object.entries(entry).filter(([key]) => own.has(key) || !shared.has(key)));
  const parsed = adapters[entry.kind].spec.safeParse(block, parsedOnce);
  // The kind's own spec accepted it, so it is that kind's spec type.
  if (parsed.success) return { spec: parsed.data as AnyPluginSpec };
  return { issues: specIssues(entry.kind, block, at) };
}
