// The resolved WIT type model the wasm adapter works with: what the WIT parser and the
// component-type reader produce, and what schemas, value conversion and the cache consume.
// Plain JSON data (no classes, no cycles: WIT types cannot be recursive), so it can be
// cached on disk and posted to workers as is.

export type WitPrimitive =
  | 'bool'
  | 's8'
  | 's16'
  | 's32'
  | 's64'
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u64'
  | 'f32'
  | 'f64'
  | 'char'
  | 'string';

export const witPrimitives: ReadonlySet<string> = new Set<WitPrimitive>([
  'bool', 's8', 's16', 's32', 's64', 'u8', 'u16', 'u32', 'u64', 'f32', 'f64', 'char', 'string',
]);

interface Named {
  /** The WIT name of a named type (record, variant, alias...). */
  name?: string;
  /** Its WIT doc comment, when known. */
  docs?: string;
}

export interface WitField {
  name: string;
  type: WitType;
  docs?: string;
}

export interface WitCase {
  name: string;
  type?: WitType;
  docs?: string;
}

export interface WitLabel {
  name: string;
  docs?: string;
}

export type WitType = Named &
  (
    | { kind: WitPrimitive }
    | { kind: 'list'; element: WitType; length?: number }
    | { kind: 'tuple'; items: WitType[] }
    | { kind: 'record'; fields: WitField[] }
    | { kind: 'variant'; cases: WitCase[] }
    | { kind: 'enum'; cases: WitLabel[] }
    | { kind: 'flags'; flags: WitLabel[] }
    | { kind: 'option'; inner: WitType }
    | { kind: 'result'; ok?: WitType; err?: WitType }
    /** Resources, handles, futures, streams, error-context: not callable as a tool. */
    | { kind: 'unsupported'; what: string }
  );

export interface WitParam {
  name: string;
  type: WitType;
}

export interface WitFunction {
  name: string;
  params: WitParam[];
  result?: WitType;
  async?: boolean;
  docs?: string;
}

/** A function the component exports, at world level or inside an exported interface. */
export interface ExportedFunction {
  /** The exported interface's full name (`acme:kitchen/counters@0.2.0`), absent at world level. */
  interface?: string;
  /** The exported interface's doc comment, when known. */
  interfaceDocs?: string;
  func: WitFunction;
}

/** Why a type cannot cross the tool boundary, or undefined when it can. */
export function findUnsupported(type: WitType): string | undefined {
  switch (type.kind) {
    case 'unsupported':
      return type.what;
    case 'list':
      return findUnsupported(type.element);
    case 'option':
      return findUnsupported(type.inner);
    case 'tuple':
      return firstOf(type.items.map(findUnsupported));
    case 'record':
      return firstOf(type.fields.map((field) => findUnsupported(field.type)));
    case 'variant':
      return firstOf(type.cases.map((item) => (item.type ? findUnsupported(item.type) : undefined)));
    case 'result':
      return firstOf([type.ok && findUnsupported(type.ok), type.err && findUnsupported(type.err)]);
    default:
      return undefined;
  }
}

function firstOf(values: readonly (string | undefined)[]): string | undefined {
  return values.find((value) => value !== undefined);
}

/** WIT source text of a type, for generated descriptions and messages. */
export function formatWitType(type: WitType): string {
  if (type.name) return type.name;
  switch (type.kind) {
    case 'list':
      return type.length === undefined ? `list<${formatWitType(type.element)}>` : `list<${formatWitType(type.element)}, ${type.length}>`;
    case 'tuple':
      return `tuple<${type.items.map(formatWitType).join(', ')}>`;
    case 'option':
      return `option<${formatWitType(type.inner)}>`;
    case 'result':
      if (!type.ok && !type.err) return 'result';
      if (!type.err) return `result<${formatWitType(type.ok as WitType)}>`;
      return `result<${type.ok ? formatWitType(type.ok) : '_'}, ${formatWitType(type.err)}>`;
    case 'record':
      return `record { ${type.fields.map((field) => `${field.name}: ${formatWitType(field.type)}`).join(', ')} }`;
    case 'variant':
      return `variant { ${type.cases.map((item) => (item.type ? `${item.name}(${formatWitType(item.type)})` : item.name)).join(', ')} }`;
    case 'enum':
      return `enum { ${type.cases.map((item) => item.name).join(', ')} }`;
    case 'flags':
      return `flags { ${type.flags.map((item) => item.name).join(', ')} }`;
    case 'unsupported':
      return type.what;
    default:
      return type.kind;
  }
}

export function formatWitFunction(func: WitFunction): string {
  const params = func.params.map((param) => `${param.name}: ${formatWitType(param.type)}`).join(', ');
  const result = func.result ? ` -> ${formatWitType(func.result)}` : '';
  return `${func.name}: ${func.async ? 'async ' : ''}func(${params})${result}`;
}

/** Structural equality, ignoring names and docs (a WIT file and a component may name things differently). */
export function sameWitType(a: WitType, b: WitType): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'list': {
      const other = b as typeof a;
      return a.length === other.length && sameWitType(a.element, other.element);
    }
    case 'tuple': {
      const other = b as typeof a;
      return a.items.length === other.items.length && a.items.every((item, index) => sameWitType(item, other.items[index] as WitType));
    }
    case 'record': {
      const other = b as typeof a;
      return (
        a.fields.length === other.fields.length &&
        a.fields.every((field, index) => {
          const peer = other.fields[index];
          return peer !== undefined && peer.name === field.name && sameWitType(field.type, peer.type);
        })
      );
    }
    case 'variant': {
      const other = b as typeof a;
      return (
        a.cases.length === other.cases.length &&
        a.cases.every((item, index) => {
          const peer = other.cases[index];
          if (peer === undefined || peer.name !== item.name) return false;
          if (!item.type || !peer.type) return !item.type && !peer.type;
          return sameWitType(item.type, peer.type);
        })
      );
    }
    case 'enum': {
      const other = b as typeof a;
      return a.cases.map((item) => item.name).join(',') === other.cases.map((item) => item.name).join(',');
    }
    case 'flags': {
      const other = b as typeof a;
      return a.flags.map((item) => item.name).join(',') === other.flags.map((item) => item.name).join(',');
    }
    case 'option':
      return sameWitType(a.inner, (b as typeof a).inner);
    case 'result': {
      const other = b as typeof a;
      const same = (x: WitType | undefined, y: WitType | undefined): boolean => (x && y ? sameWitType(x, y) : x === y);
      return same(a.ok, other.ok) && same(a.err, other.err);
    }
    case 'unsupported':
      return a.what === (b as typeof a).what;
    default:
      return true;
  }
}

export function sameWitFunction(a: WitFunction, b: WitFunction): boolean {
  const sameResult = a.result && b.result ? sameWitType(a.result, b.result) : a.result === b.result;
  return (
    a.name === b.name &&
    Boolean(a.async) === Boolean(b.async) &&
    sameResult &&
    a.params.length === b.params.length &&
    a.params.every((param, index) => {
      const peer = b.params[index];
      return peer !== undefined && peer.name === param.name && sameWitType(param.type, peer.type);
    })
  );
}
