// A plugin's WIT beyond what the component itself says, and what it may import: the WIT
// file an author ships beside the component (package name, version, doc comments), and
// the check that every import is something toolport provides.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { ComponentDescription } from './describe.js';
import { asteraiHostPackage, asteraiHostWit, isProvidedHostVersion } from './host-api.js';
import {
  createWitResolver,
  formatPackageName,
  parseInterfaceName,
  parseWit,
  type PackageAst,
  type PackageName,
  type ResolvedWorld,
} from './wit-parser.js';
import { sameWitFunction, type ExportedFunction, type WitFunction, type WitType } from './wit-types.js';

// ---------------------------------------------------------------------------------------
// Imports toolport can provide

/** WASI 0.2 interfaces preview2-shim implements (its import object's keys). */
const providedWasi = new Set([
  'wasi:cli/environment',
  'wasi:cli/exit',
  'wasi:cli/stderr',
  'wasi:cli/stdin',
  'wasi:cli/stdout',
  'wasi:cli/terminal-input',
  'wasi:cli/terminal-output',
  'wasi:cli/terminal-stderr',
  'wasi:cli/terminal-stdin',
  'wasi:cli/terminal-stdout',
  'wasi:sockets/instance-network',
  'wasi:sockets/ip-name-lookup',
  'wasi:sockets/network',
  'wasi:sockets/tcp',
  'wasi:sockets/tcp-create-socket',
  'wasi:sockets/udp',
  'wasi:sockets/udp-create-socket',
  'wasi:filesystem/preopens',
  'wasi:filesystem/types',
  'wasi:io/error',
  'wasi:io/poll',
  'wasi:io/streams',
  'wasi:random/random',
  'wasi:random/insecure',
  'wasi:random/insecure-seed',
  'wasi:clocks/monotonic-clock',
  'wasi:clocks/wall-clock',
  'wasi:http/types',
  'wasi:http/outgoing-handler',
]);

let hostApi: Map<string, WitFunction> | undefined;

function hostApiFunctions(): Map<string, WitFunction> {
  if (!hostApi) {
    const packages = parseWit(asteraiHostWit, 'asterai:host');
    const iface = createWitResolver(packages).resolveInterface('asterai:host/api@0.1.0');
    hostApi = new Map((iface?.funcs ?? []).map((func) => [func.name, func]));
  }
  return hostApi;
}

/** Every import the component needs that toolport cannot give it, each named and explained. */
export function findUnknownImports(description: ComponentDescription): string[] {
  const problems: string[] = [];
  for (const name of description.imports.functions) problems.push(`function "${name}" (a world-level import)`);
  for (const name of description.imports.interfaces) {
    const parsed = parseInterfaceName(name);
    if (!parsed) {
      problems.push(`interface "${name}"`);
      continue;
    }
    const { package: pkg } = parsed;
    if (pkg.namespace === 'wasi') {
      const unversioned = `wasi:${pkg.name}/${parsed.interface}`;
      if (!providedWasi.has(unversioned) || !pkg.version?.startsWith('0.2.')) {
        problems.push(`${name} (toolport provides WASI 0.2 cli, clocks, filesystem, io, random, sockets and http outgoing-handler)`);
      }
      continue;
    }
    if (pkg.namespace === asteraiHostPackage.namespace && pkg.name === asteraiHostPackage.name && parsed.interface === asteraiHostPackage.interface) {
      if (!isProvidedHostVersion(pkg.version)) {
        problems.push(`${name} (toolport provides asterai:host/api@0.1.0, the API of Asterai's 2025 plugins)`);
        continue;
      }
      const known = hostApiFunctions();
      for (const func of description.hostFunctions[name] ?? []) {
        const expected = known.get(func.name);
        if (!expected) problems.push(`${name} function "${func.name}" (not part of asterai:host/api@0.1.0)`);
        else if (!sameWitFunction(expected, func)) problems.push(`${name} function "${func.name}" with a different signature than asterai:host/api@0.1.0`);
      }
      continue;
    }
    problems.push(`${name}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// The WIT file beside a component

export interface WitSidecar {
  file: string;
  package: PackageName | undefined;
  world: string;
  docs?: string;
  /** Exports with their documented signatures, for those that match the component. */
  matched: Map<string, ExportedFunction>;
  /** Why some exports did not match (stale WIT). */
  mismatches: string[];
}

export function exportKey(item: { interface?: string | undefined; func: { name: string } }): string {
  return item.interface === undefined ? item.func.name : `${item.interface}#${item.func.name}`;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Where a plugin's WIT may be: given in config, or beside the component under a usual name. */
export async function findWitSidecar(wasmPath: string, configured: string | undefined): Promise<string | undefined> {
  if (configured !== undefined) return configured;
  const folder = dirname(wasmPath);
  const stem = basename(wasmPath, extname(wasmPath));
  for (const name of [`${stem}.wit`, 'plugin.wit', 'package.wit', 'component.wit']) {
    if (await isFile(join(folder, name))) return join(folder, name);
  }
  // A folder of sources named like the component (`bakery.wasm` beside `bakery/wit/`), or `wit/`.
  for (const dir of [join(folder, stem, 'wit'), join(folder, 'wit')]) {
    if (await isFolder(dir)) return dir;
  }
  return undefined;
}

async function readWitTree(path: string, into: PackageAst[], depth = 0): Promise<void> {
  if (depth > 4) return;
  if (await isFile(path)) {
    into.push(...parseWit(await readFile(path, 'utf8'), path));
    return;
  }
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isFile() && entry.name.endsWith('.wit')) into.push(...parseWit(await readFile(child, 'utf8'), child));
    else if (entry.isDirectory() && (depth > 0 || entry.name === 'deps')) await readWitTree(child, into, depth + 1);
  }
}

/** Parses the WIT at `path` (a file or a folder with `deps/`) and matches it to the component. */
export async function readWitSidecar(path: string, description: ComponentDescription): Promise<WitSidecar> {
  const own: PackageAst[] = [];
  if (await isFile(path)) {
    own.push(...parseWit(await readFile(path, 'utf8'), path));
  } else {
    for (const entry of (await readdir(path)).sort()) {
      if (entry.endsWith('.wit')) own.push(...parseWit(await readFile(join(path, entry), 'utf8'), join(path, entry)));
    }
  }
  const deps: PackageAst[] = [];
  const depsFolder = join((await isFile(path)) ? dirname(path) : path, 'deps');
  if (await isFolder(depsFolder)) await readWitTree(depsFolder, deps, 1);
  const all = [...own, ...deps];
  const hasHost = all.some((pkg) => pkg.name?.namespace === 'asterai' && pkg.name.name === 'host');
  if (!hasHost) all.push(...parseWit(asteraiHostWit, 'asterai:host'));
  const resolver = createWitResolver(all);

  const byKey = new Map(description.exports.map((item) => [exportKey(item), item]));
  let best: { world: ResolvedWorld; matched: Map<string, ExportedFunction>; mismatches: string[] } | undefined;
  for (const pkg of own) {
    for (const worldName of pkg.worlds.keys()) {
      const world = resolver.resolveWorld(pkg, worldName);
      const matched = new Map<string, ExportedFunction>();
      const mismatches: string[] = [];
      for (const item of world.exports) {
        const key = exportKey(item);
        const actual = byKey.get(key);
        if (!actual) continue;
        if (sameWitFunction(actual.func, item.func)) {
          matched.set(key, item);
        } else {
          mismatches.push(`${key.replace('#', '/')}: the WIT says \`${formatSignature(item.func)}\`, the component has \`${formatSignature(actual.func)}\``);
        }
      }
      if (!best || matched.size > best.matched.size) best = { world, matched, mismatches };
    }
  }
  if (!best || (best.matched.size === 0 && description.exports.length > 0)) {
    return { file: path, package: undefined, world: '', matched: new Map(), mismatches: ['no world in it exports what the component exports'] };
  }
  return {
    file: path,
    package: best.world.package,
    world: best.world.world,
    ...(best.world.docs && { docs: best.world.docs }),
    matched: best.matched,
    mismatches: best.mismatches,
  };
}

function formatSignature(func: WitFunction): string {
  const type = (value: WitType): string => (value.name ? value.name : value.kind);
  return `func(${func.params.map((param) => `${param.name}: ${type(param.type)}`).join(', ')})${func.result ? ` -> ${type(func.result)}` : ''}`;
}

/** The plugin's package when no WIT file says it: the one package all exported interfaces belong to. */
export function packageFromExports(description: ComponentDescription): PackageName | undefined {
  const packages = new Set<string>();
  let found: PackageName | undefined;
  for (const item of description.exports) {
    if (item.interface === undefined) return undefined;
    const parsed = parseInterfaceName(item.interface);
    if (!parsed) return undefined;
    found = parsed.package;
    packages.add(formatPackageName(parsed.package));
  }
  return packages.size === 1 ? found : undefined;
}
