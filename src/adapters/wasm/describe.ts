// What a component offers and needs, read from the component itself: its WIT world (world
// level exports, imports) and its type definitions (exported interfaces, imported host
// functions). Runs in the transpile worker: jco's tools are slow on big components.
import { componentWit, print } from '@bytecodealliance/jco-transpile/wasm-tools';
import { stripCoreModules } from './binary.js';
import { readComponentTypes } from './component-types.js';
import { asteraiHostPackage } from './host-api.js';
import { createWitResolver, parseInterfaceName, parseWit, type PackageAst } from './wit-parser.js';
import type { ExportedFunction, WitFunction } from './wit-types.js';

export interface ComponentDescription {
  /** World-level functions and functions of exported interfaces. */
  exports: ExportedFunction[];
  /** Exported interfaces whose types could not be read from the component. */
  unreadableInterfaces: string[];
  imports: { interfaces: string[]; functions: string[] };
  /** What the component imports from the Asterai host API, by import name. */
  hostFunctions: Record<string, WitFunction[]>;
}

/** Reads a component's exports and imports (slow for big components; the result is cached). */
export async function describeComponent(bytes: Uint8Array): Promise<ComponentDescription> {
  // Walking the sections first rejects a truncated or malformed binary with a clear message.
  const stripped = stripCoreModules(bytes);
  const witText = await componentWit(bytes).catch((reason: unknown) => {
    throw describeError(reason);
  });
  const wat = await print(stripped).catch((reason: unknown) => {
    throw describeError(reason);
  });
  const types = readComponentTypes(wat);
  const packages = parseWit(witText, 'component WIT');
  const root = packages[0] as PackageAst;
  const world = [...root.worlds.keys()][0];
  if (world === undefined) throw new Error('the component WIT has no world');
  const resolver = createWitResolver(packages, {
    lookup: (iface, type) => types.imports.get(iface)?.types.get(type) ?? types.exports.get(iface)?.types.get(type),
  });
  const resolved = resolver.resolveWorld(root, world);
  const exports: ExportedFunction[] = resolved.exports.filter((item) => item.interface === undefined).map(({ func }) => ({ func }));
  const unreadableInterfaces: string[] = [];
  for (const name of resolved.exportedInterfaces) {
    const found = types.exports.get(name);
    if (!found) {
      unreadableInterfaces.push(name);
      continue;
    }
    for (const func of found.funcs) exports.push({ interface: name, func });
  }
  const hostFunctions: Record<string, WitFunction[]> = {};
  for (const [name, found] of types.imports) {
    const parsed = parseInterfaceName(name);
    if (parsed?.package.namespace === asteraiHostPackage.namespace && parsed.package.name === asteraiHostPackage.name) {
      hostFunctions[name] = found.funcs;
    }
  }
  return { exports, unreadableInterfaces, imports: resolved.imports, hostFunctions };
}

/** jco's tools reject with `{ payload: message }` objects; make them errors with that message. */
function describeError(reason: unknown): Error {
  if (reason instanceof Error) return reason;
  const payload = (reason as { payload?: unknown } | undefined)?.payload;
  return new Error(typeof payload === 'string' ? payload.split('\n').join(': ') : String(reason));
}
