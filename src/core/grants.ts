// One permission vocabulary across plugin kinds. Plugins declare permissions in their
// platform's words (EvoClaw `internet`, ScaiWave `EXTERNAL_HTTP`, `READ_NOTES`…); the
// config grants them per plugin; a call whose plugin lacks a declared grant is refused.
import type { Grants } from './plugin.js';

/** Canonical names: `network`, `files`, `env:NAME`, or a data permission such as READ_NOTES. */
export type Permission = string;

const aliases: Readonly<Record<string, Permission>> = {
  internet: 'network',
  network: 'network',
  EXTERNAL_HTTP: 'network',
  filesystem: 'files',
  files: 'files',
};

/** Maps a declared permission to the canonical vocabulary. */
export function toPermission(declared: string): Permission {
  return aliases[declared] ?? declared;
}

// A plugin's grants never change after load; its granted set is built once, not per call.
const grantedCache = new WeakMap<Grants, ReadonlySet<Permission>>();

/** Everything a plugin's grants give, in the canonical vocabulary. */
export function grantedPermissions(grants: Grants): ReadonlySet<Permission> {
  const cached = grantedCache.get(grants);
  if (cached) return cached;
  const granted = new Set<Permission>();
  if (grants.network) granted.add('network');
  if (Object.keys(grants.files).length > 0) granted.add('files');
  for (const name of grants.env) granted.add(`env:${name}`);
  for (const permission of grants.permissions) {
    granted.add(permission);
    granted.add(toPermission(permission));
  }
  grantedCache.set(grants, granted);
  return granted;
}

export interface MissingGrant {
  /** As the plugin declared it. */
  declared: string;
  /** The config line that would grant it, e.g. `plugins[2].grants.permissions: [READ_NOTES]`. */
  configLine: string;
}

function configLineFor(declared: string, configPath: string): string {
  const permission = toPermission(declared);
  if (permission === 'network') return `${configPath}.grants.network: true`;
  if (permission === 'files') return `${configPath}.grants.files: { ./some/folder: ro }`;
  if (permission.startsWith('env:')) return `${configPath}.grants.env: [${permission.slice(4)}]`;
  return `${configPath}.grants.permissions: [${declared}]`;
}

/** The declared permissions that the grants do not cover, each with the line that would. */
export function missingGrants(declared: readonly string[], grants: Grants, configPath: string): MissingGrant[] {
  if (declared.length === 0) return [];
  const granted = grantedPermissions(grants);
  const missing: MissingGrant[] = [];
  for (const permission of new Set(declared)) {
    if (granted.has(permission) || granted.has(toPermission(permission))) continue;
    missing.push({ declared: permission, configLine: configLineFor(permission, configPath) });
  }
  return missing;
}
