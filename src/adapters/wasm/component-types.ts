// Reads the types of a component's imported and exported instances from its printed
// text form (WAT). jco's WIT printer names exported interfaces without their types and
// never shows what an imported interface declares; the component's own type definitions
// do, so this walks them (index spaces, aliases, nested components) into the WIT model.
import { witPrimitives, type WitFunction, type WitPrimitive, type WitType } from './wit-types.js';

type SNode = { t: 'list'; items: SNode[] } | { t: 'atom'; v: string } | { t: 'str'; v: string } | { t: 'idx'; v: number };

export class ComponentTypesError extends Error {
  override readonly name = 'ComponentTypesError';
}

// ---------------------------------------------------------------------------------------
// S-expressions

function readString(text: string, start: number): { value: string; end: number } {
  // start is at the opening quote
  let index = start + 1;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  while (index < text.length) {
    const char = text[index] as string;
    if (char === '"') return { value: new TextDecoder().decode(Uint8Array.from(bytes)), end: index + 1 };
    if (char === '\\') {
      const next = text[index + 1] as string;
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, "'": 39, '\\': 92 };
      if (next in simple) {
        bytes.push(simple[next] as number);
        index += 2;
      } else if (next === 'u') {
        const close = text.indexOf('}', index);
        bytes.push(...encoder.encode(String.fromCodePoint(parseInt(text.slice(index + 3, close), 16))));
        index = close + 1;
      } else {
        bytes.push(parseInt(text.slice(index + 1, index + 3), 16));
        index += 3;
      }
      continue;
    }
    const code = text.codePointAt(index) as number;
    const piece = String.fromCodePoint(code);
    bytes.push(...encoder.encode(piece));
    index += piece.length;
  }
  throw new ComponentTypesError('unterminated string in component text');
}

export function parseSExpressions(text: string): SNode[] {
  const root: SNode[] = [];
  const stack: SNode[][] = [root];
  let index = 0;
  const top = (): SNode[] => stack[stack.length - 1] as SNode[];
  while (index < text.length) {
    const char = text[index] as string;
    if (char === '(' && text[index + 1] === ';') {
      const end = text.indexOf(';)', index + 2);
      if (end === -1) throw new ComponentTypesError('unterminated block comment');
      const body = text.slice(index + 2, end);
      if (/^\d+$/.test(body)) top().push({ t: 'idx', v: Number(body) });
      index = end + 2;
      continue;
    }
    if (char === ';' && text[index + 1] === ';') {
      const end = text.indexOf('\n', index);
      index = end === -1 ? text.length : end;
      continue;
    }
    if (char === '(') {
      const list: SNode = { t: 'list', items: [] };
      top().push(list);
      stack.push(list.items);
      index++;
      continue;
    }
    if (char === ')') {
      if (stack.length === 1) throw new ComponentTypesError('unbalanced parentheses');
      stack.pop();
      index++;
      continue;
    }
    if (/\s/.test(char)) {
      index++;
      continue;
    }
    if (char === '"') {
      const { value, end } = readString(text, index);
      top().push({ t: 'str', v: value });
      index = end;
      continue;
    }
    if (char === '$' && text[index + 1] === '"') {
      const { value, end } = readString(text, index + 1);
      top().push({ t: 'atom', v: `$${value}` });
      index = end;
      continue;
    }
    let end = index;
    while (end < text.length && !/[\s()"]/.test(text[end] as string)) end++;
    top().push({ t: 'atom', v: text.slice(index, end) });
    index = end;
  }
  if (stack.length !== 1) throw new ComponentTypesError('unbalanced parentheses');
  return root;
}

const headOf = (node: SNode | undefined): string | undefined =>
  node?.t === 'list' && node.items[0]?.t === 'atom' ? node.items[0].v : undefined;

const isAnnotation = (node: SNode): boolean => headOf(node)?.startsWith('@') ?? false;

/** Skips `$id`, `(@name ...)` and `(;N;)` after a form's keyword; returns what it found. */
function readHeader(items: SNode[], from: number): { id?: string; index?: number; next: number } {
  let next = from;
  let id: string | undefined;
  let index: number | undefined;
  for (;;) {
    const node = items[next];
    if (!node) break;
    if (node.t === 'atom' && node.v.startsWith('$')) id = node.v;
    else if (node.t === 'idx') index = node.v;
    else if (node.t === 'list' && isAnnotation(node)) {
      // skip
    } else break;
    next++;
  }
  return { ...(id !== undefined && { id }), ...(index !== undefined && { index }), next };
}

// ---------------------------------------------------------------------------------------
// Scopes and index spaces

type Sort = 'type' | 'func' | 'instance' | 'component';

class Space<T> {
  readonly byIndex = new Map<number, T>();
  readonly byId = new Map<string, number>();
  private nextIndex = 0;
  /** The index the last added entry got. */
  lastIndex: number | undefined;

  add(entry: T, index: number | undefined, id: string | undefined): void {
    const at = index ?? this.nextIndex;
    this.byIndex.set(at, entry);
    if (id !== undefined) this.byId.set(id, at);
    this.nextIndex = at + 1;
    this.lastIndex = at;
  }

  get(ref: string): T | undefined {
    const at = /^\d+$/.test(ref) ? Number(ref) : this.byId.get(ref);
    return at === undefined ? undefined : this.byIndex.get(at);
  }
}

type TypeEntry =
  | { kind: 'def'; node: SNode; scope: Scope }
  | { kind: 'instance-type'; scope: Scope }
  | { kind: 'named'; ref: SNode; scope: Scope; name: string }
  | { kind: 'resource'; name?: string }
  | { kind: 'alias-export'; instance: string; name: string; scope: Scope }
  | { kind: 'alias-outer'; count: number; ref: string; scope: Scope }
  | { kind: 'opaque' };

type FuncEntry =
  | { kind: 'typed'; typeRef: SNode; scope: Scope }
  | { kind: 'ref'; ref: string; scope: Scope }
  | { kind: 'alias-export'; instance: string; name: string; scope: Scope };

type InstanceEntry =
  | { kind: 'typed'; typeRef: SNode; scope: Scope }
  | { kind: 'inline-type'; scope: Scope }
  | { kind: 'instantiate'; component: string; scope: Scope }
  | { kind: 'bundle'; exports: { name: string; sort: Sort; ref: string }[]; scope: Scope }
  | { kind: 'alias-export'; instance: string; name: string; scope: Scope };

interface ExportDecl {
  name: string;
  sort: Sort;
  /** The index in this scope's space of that sort. */
  index: number;
}

class Scope {
  readonly types = new Space<TypeEntry>();
  readonly funcs = new Space<FuncEntry>();
  readonly instances = new Space<InstanceEntry>();
  readonly components = new Space<Scope | undefined>();
  readonly exports: ExportDecl[] = [];
  readonly imports: ExportDecl[] = [];

  constructor(readonly parent: Scope | undefined) {}

  space(sort: Sort): Space<unknown> {
    switch (sort) {
      case 'type':
        return this.types;
      case 'func':
        return this.funcs;
      case 'instance':
        return this.instances;
      case 'component':
        return this.components;
    }
  }

  /** The index a `$id` or number names in a space. */
  indexOf(sort: Sort, ref: string): number | undefined {
    if (/^\d+$/.test(ref)) return Number(ref);
    return this.space(sort).byId.get(ref);
  }
}

const sorts = new Set<string>(['type', 'func', 'instance', 'component']);

function refOf(node: SNode | undefined): string | undefined {
  return node?.t === 'atom' ? node.v : undefined;
}

/** Builds a scope from the body of a `(component ...)` or an `(instance ...)` type. */
function buildScope(items: SNode[], parent: Scope | undefined): Scope {
  const scope = new Scope(parent);
  for (const node of items) {
    if (node.t !== 'list') continue;
    const head = headOf(node);
    const list = node.items;
    switch (head) {
      case 'type':
        addTypeDecl(scope, list);
        break;
      case 'import':
        addImport(scope, list);
        break;
      case 'export':
        addExport(scope, list);
        break;
      case 'alias':
        addAlias(scope, list);
        break;
      case 'instance':
        addInstance(scope, list);
        break;
      case 'component': {
        const header = readHeader(list, 1);
        scope.components.add(buildScope(list.slice(header.next), scope), header.index, header.id);
        break;
      }
      case 'func': {
        const header = readHeader(list, 1);
        const typeUse = list.slice(header.next).find((child) => headOf(child) === 'type');
        const typeRef = typeUse?.t === 'list' ? typeUse.items[1] : undefined;
        if (typeRef) scope.funcs.add({ kind: 'typed', typeRef, scope }, header.index, header.id);
        break;
      }
      default:
        break;
    }
  }
  return scope;
}

function addTypeDecl(scope: Scope, list: SNode[]): void {
  const header = readHeader(list, 1);
  const def = list[header.next];
  if (!def) return;
  const defHead = headOf(def);
  if (defHead === 'instance' && def.t === 'list') {
    scope.types.add({ kind: 'instance-type', scope: buildScope(def.items.slice(1), scope) }, header.index, header.id);
  } else if (defHead === 'resource') {
    scope.types.add({ kind: 'resource' }, header.index, header.id);
  } else if (defHead === 'component') {
    scope.types.add({ kind: 'opaque' }, header.index, header.id);
  } else {
    scope.types.add({ kind: 'def', node: def, scope }, header.index, header.id);
  }
}

/**
 * An extern description: `(func (type X))`, `(instance (type X))`, `(type (eq X))`...
 * Imports carry their index inside it; exports of an instance type carry it before the name.
 */
function addExternDesc(scope: Scope, desc: SNode, name: string, into: ExportDecl[], outer: { id?: string; index?: number } = {}): void {
  if (desc.t !== 'list') return;
  const sort = headOf(desc);
  if (!sort || !sorts.has(sort)) return;
  const inner = readHeader(desc.items, 1);
  const id = inner.id ?? outer.id;
  const at = inner.index ?? outer.index;
  const rest = desc.items.slice(inner.next);
  const first = rest[0];
  const firstHead = headOf(first);
  switch (sort) {
    case 'type':
      if (firstHead === 'eq' && first?.t === 'list' && first.items[1]) scope.types.add({ kind: 'named', ref: first.items[1], scope, name }, at, id);
      else if (firstHead === 'sub') scope.types.add({ kind: 'resource', name }, at, id);
      else scope.types.add({ kind: 'opaque' }, at, id);
      break;
    case 'func': {
      const typeRef = firstHead === 'type' && first?.t === 'list' ? first.items[1] : undefined;
      if (!typeRef) return;
      scope.funcs.add({ kind: 'typed', typeRef, scope }, at, id);
      break;
    }
    case 'instance':
      if (firstHead === 'type' && first?.t === 'list' && first.items[1]) scope.instances.add({ kind: 'typed', typeRef: first.items[1], scope }, at, id);
      else scope.instances.add({ kind: 'inline-type', scope: buildScope(rest, scope) }, at, id);
      break;
    case 'component':
      scope.components.add(undefined, at, id);
      break;
  }
  const space = scope.space(sort as Sort);
  const index = at ?? (id !== undefined ? space.byId.get(id) : undefined) ?? space.lastIndex;
  if (index !== undefined) into.push({ name, sort: sort as Sort, index });
}

function addImport(scope: Scope, list: SNode[]): void {
  const nameNode = list[1];
  const desc = list[2];
  if (nameNode?.t !== 'str' || !desc) return;
  addExternDesc(scope, desc, nameNode.v, scope.imports);
}

function addExport(scope: Scope, list: SNode[]): void {
  const header = readHeader(list, 1);
  const nameNode = list[header.next];
  if (nameNode?.t !== 'str') return;
  const name = nameNode.v;
  const rest = list.slice(header.next + 1).filter((node) => !isAnnotation(node));
  const target = rest[0];
  const sort = headOf(target);
  if (!target || target.t !== 'list' || !sort || !sorts.has(sort)) return;
  const targetRef = refOf(target.items[1]);
  if (targetRef === undefined) {
    // An export declared by an instance type: `(export (;N;) "name" (func (type X)))`.
    addExternDesc(scope, target, name, scope.exports, header);
    return;
  }
  // A component exporting one of its items: `(export (;N;) "name" (func X) (func (type T))?)`.
  const ascription = rest[1];
  const ascribedType = ascription?.t === 'list' && headOf(ascription.items[1]) === 'type' ? ascription.items[1] : undefined;
  switch (sort) {
    case 'type':
      scope.types.add({ kind: 'named', ref: target.items[1] as SNode, scope, name }, header.index, header.id);
      break;
    case 'func': {
      const typeRef = ascribedType?.t === 'list' ? ascribedType.items[1] : undefined;
      scope.funcs.add(typeRef ? { kind: 'typed', typeRef, scope } : { kind: 'ref', ref: targetRef, scope }, header.index, header.id);
      break;
    }
    case 'instance': {
      const instance = scope.instances.get(targetRef);
      if (instance) scope.instances.add(instance, header.index, header.id);
      break;
    }
    case 'component':
      scope.components.add(scope.components.get(targetRef), header.index, header.id);
      break;
  }
  const index = header.index ?? scope.space(sort as Sort).lastIndex;
  if (index !== undefined) scope.exports.push({ name, sort: sort as Sort, index });
}

function addAlias(scope: Scope, list: SNode[]): void {
  const kind = refOf(list[1]);
  if (kind === 'export') {
    const instance = refOf(list[2]);
    const nameNode = list[3];
    const target = list[4];
    const sort = headOf(target);
    if (!instance || nameNode?.t !== 'str' || target?.t !== 'list' || !sort || !sorts.has(sort)) return;
    const header = readHeader(target.items, 1);
    const entry = { kind: 'alias-export' as const, instance, name: nameNode.v, scope };
    if (sort === 'type') scope.types.add(entry, header.index, header.id);
    else if (sort === 'func') scope.funcs.add(entry, header.index, header.id);
    else if (sort === 'instance') scope.instances.add(entry, header.index, header.id);
    else scope.components.add(undefined, header.index, header.id);
  } else if (kind === 'outer') {
    const count = Number(refOf(list[2]));
    const ref = refOf(list[3]);
    const target = list[4];
    if (ref === undefined || target?.t !== 'list' || headOf(target) !== 'type') return;
    const header = readHeader(target.items, 1);
    scope.types.add({ kind: 'alias-outer', count, ref, scope }, header.index, header.id);
  }
}

function addInstance(scope: Scope, list: SNode[]): void {
  const header = readHeader(list, 1);
  const body = list.slice(header.next);
  const instantiate = body.find((node) => headOf(node) === 'instantiate');
  if (instantiate?.t === 'list') {
    const component = refOf(instantiate.items[1]);
    if (component !== undefined) scope.instances.add({ kind: 'instantiate', component, scope }, header.index, header.id);
    return;
  }
  const exports: { name: string; sort: Sort; ref: string }[] = [];
  for (const node of body) {
    if (headOf(node) !== 'export' || node.t !== 'list') continue;
    const nameNode = node.items[1];
    const target = node.items[2];
    const sort = headOf(target);
    const ref = target?.t === 'list' ? refOf(target.items[1]) : undefined;
    if (nameNode?.t === 'str' && sort && sorts.has(sort) && ref !== undefined) exports.push({ name: nameNode.v, sort: sort as Sort, ref });
  }
  scope.instances.add({ kind: 'bundle', exports, scope }, header.index, header.id);
}

// ---------------------------------------------------------------------------------------
// Resolution into the WIT model

/** What an instance offers: functions and named types. */
export interface InstanceTypes {
  funcs: WitFunction[];
  types: Map<string, WitType>;
}

interface InstanceView {
  func(name: string): WitFunction | undefined;
  type(name: string): WitType | undefined;
  names(): { funcs: string[]; types: string[] };
}

const unsupported = (what: string): WitType => ({ kind: 'unsupported', what });

class Resolver {
  private readonly typeCache = new Map<TypeEntry, WitType>();
  private depth = 0;

  typeAt(scope: Scope, ref: string): WitType {
    const entry = scope.types.get(ref);
    if (!entry) return unsupported(`unknown type ${ref}`);
    const cached = this.typeCache.get(entry);
    if (cached) return cached;
    if (++this.depth > 200) throw new ComponentTypesError('type definitions nest too deeply');
    try {
      const resolved = this.resolveEntry(entry);
      this.typeCache.set(entry, resolved);
      return resolved;
    } finally {
      this.depth--;
    }
  }

  private resolveEntry(entry: TypeEntry): WitType {
    switch (entry.kind) {
      case 'def':
        return this.valueType(entry.scope, entry.node);
      case 'named': {
        const inner = this.valueType(entry.scope, entry.ref);
        return inner.kind === 'unsupported' ? inner : { ...inner, name: entry.name };
      }
      case 'resource':
        return unsupported(entry.name ? `resource ${entry.name}` : 'resource');
      case 'alias-export': {
        const view = this.instance(entry.scope, entry.instance);
        return view?.type(entry.name) ?? unsupported(`type "${entry.name}" of an instance`);
      }
      case 'alias-outer': {
        let outer: Scope | undefined = entry.scope;
        for (let step = 0; step < entry.count && outer; step++) outer = outer.parent;
        return outer ? this.typeAt(outer, entry.ref) : unsupported('outer type');
      }
      case 'instance-type':
      case 'opaque':
        return unsupported('not a value type');
    }
  }

  valueType(scope: Scope, node: SNode): WitType {
    if (node.t === 'atom') {
      const value = node.v === 'float32' ? 'f32' : node.v === 'float64' ? 'f64' : node.v;
      if (witPrimitives.has(value)) return { kind: value as WitPrimitive };
      if (value === 'error-context') return unsupported('error-context');
      return this.typeAt(scope, value);
    }
    if (node.t !== 'list') return unsupported('unreadable type');
    const [head, ...args] = node.items;
    const kind = head?.t === 'atom' ? head.v : '';
    switch (kind) {
      case 'record':
        return {
          kind: 'record',
          fields: args.flatMap((field) =>
            field.t === 'list' && field.items[1]?.t === 'str' && field.items[2]
              ? [{ name: field.items[1].v, type: this.valueType(scope, field.items[2]) }]
              : [],
          ),
        };
      case 'variant':
        return {
          kind: 'variant',
          cases: args.flatMap((item) => {
            if (item.t !== 'list') return [];
            const parts = item.items.filter((part) => !(part.t === 'atom' && part.v.startsWith('$')) && headOf(part) !== 'refines');
            const label = parts[1];
            if (label?.t !== 'str') return [];
            const payload = parts[2];
            return [payload ? { name: label.v, type: this.valueType(scope, payload) } : { name: label.v }];
          }),
        };
      case 'list': {
        const element = args[0] ? this.valueType(scope, args[0]) : unsupported('list');
        const length = args[1]?.t === 'atom' && /^\d+$/.test(args[1].v) ? Number(args[1].v) : undefined;
        return length === undefined ? { kind: 'list', element } : { kind: 'list', element, length };
      }
      case 'tuple':
        return { kind: 'tuple', items: args.map((item) => this.valueType(scope, item)) };
      case 'flags':
        return { kind: 'flags', flags: args.flatMap((item) => (item.t === 'str' ? [{ name: item.v }] : [])) };
      case 'enum':
        return { kind: 'enum', cases: args.flatMap((item) => (item.t === 'str' ? [{ name: item.v }] : [])) };
      case 'option':
        return { kind: 'option', inner: args[0] ? this.valueType(scope, args[0]) : unsupported('option') };
      case 'result': {
        let ok: WitType | undefined;
        let err: WitType | undefined;
        for (const arg of args) {
          if (headOf(arg) === 'error' && arg.t === 'list' && arg.items[1]) err = this.valueType(scope, arg.items[1]);
          else ok = this.valueType(scope, arg);
        }
        return { kind: 'result', ...(ok && { ok }), ...(err && { err }) };
      }
      case 'own':
      case 'borrow':
        return unsupported(`${kind} handle`);
      case 'stream':
      case 'future':
        return unsupported(kind);
      default:
        return unsupported(`type ${kind || 'expression'}`);
    }
  }

  funcType(scope: Scope, node: SNode, name: string): WitFunction {
    const def = node.t === 'list' && headOf(node) === 'func' ? { scope, node } : this.funcTypeDef(scope, node);
    if (!def) return { name, params: [], result: unsupported('unreadable function type') };
    const func: WitFunction = { name, params: [] };
    if (def.node.t !== 'list') return func;
    for (const part of def.node.items.slice(1)) {
      if (part.t === 'atom' && part.v === 'async') func.async = true;
      if (part.t !== 'list') continue;
      const head = headOf(part);
      if (head === 'param' && part.items[1]?.t === 'str' && part.items[2]) {
        func.params.push({ name: part.items[1].v, type: this.valueType(def.scope, part.items[2]) });
      } else if (head === 'result') {
        const rest = part.items.slice(1);
        if (rest.length === 1 && rest[0]) func.result = this.valueType(def.scope, rest[0]);
        else if (rest.length > 1) func.result = unsupported('named results');
      }
    }
    return func;
  }

  private funcTypeDef(scope: Scope, node: SNode): { scope: Scope; node: SNode } | undefined {
    const ref = refOf(node);
    if (ref === undefined) return undefined;
    const entry = scope.types.get(ref);
    if (entry?.kind === 'def') return headOf(entry.node) === 'func' ? { scope: entry.scope, node: entry.node } : this.funcTypeDef(entry.scope, entry.node);
    if (entry?.kind === 'alias-outer') {
      let outer: Scope | undefined = entry.scope;
      for (let step = 0; step < entry.count && outer; step++) outer = outer.parent;
      return outer ? this.funcTypeDef(outer, { t: 'atom', v: entry.ref }) : undefined;
    }
    return undefined;
  }

  funcAt(scope: Scope, ref: string, name: string): WitFunction | undefined {
    const entry = scope.funcs.get(ref);
    if (!entry) return undefined;
    if (++this.depth > 200) throw new ComponentTypesError('function aliases nest too deeply');
    try {
      switch (entry.kind) {
        case 'typed':
          return this.funcType(entry.scope, entry.typeRef, name);
        case 'ref':
          return this.funcAt(entry.scope, entry.ref, name);
        case 'alias-export': {
          const found = this.instance(entry.scope, entry.instance)?.func(entry.name);
          return found ? { ...found, name } : undefined;
        }
      }
    } finally {
      this.depth--;
    }
  }

  /** What the instance a reference names offers. */
  instance(scope: Scope, ref: string): InstanceView | undefined {
    const entry = scope.instances.get(ref);
    if (!entry) return undefined;
    switch (entry.kind) {
      case 'inline-type':
        return this.declaredView(entry.scope);
      case 'typed': {
        const typeRef = refOf(entry.typeRef);
        const typeEntry = typeRef === undefined ? undefined : this.instanceTypeScope(entry.scope, typeRef);
        return typeEntry ? this.declaredView(typeEntry) : undefined;
      }
      case 'instantiate': {
        const component = entry.scope.components.get(entry.component);
        return component ? this.declaredView(component) : undefined;
      }
      case 'bundle':
        return {
          func: (name) => {
            const item = entry.exports.find((candidate) => candidate.name === name && candidate.sort === 'func');
            return item ? this.funcAt(entry.scope, item.ref, name) : undefined;
          },
          type: (name) => {
            const item = entry.exports.find((candidate) => candidate.name === name && candidate.sort === 'type');
            return item ? withName(this.typeAt(entry.scope, item.ref), name) : undefined;
          },
          names: () => ({
            funcs: entry.exports.filter((item) => item.sort === 'func').map((item) => item.name),
            types: entry.exports.filter((item) => item.sort === 'type').map((item) => item.name),
          }),
        };
      case 'alias-export':
        // An instance nested in another instance: not produced for WIT worlds.
        return undefined;
    }
  }

  private instanceTypeScope(scope: Scope, ref: string): Scope | undefined {
    const entry = scope.types.get(ref);
    if (entry?.kind === 'instance-type') return entry.scope;
    if (entry?.kind === 'alias-outer') {
      let outer: Scope | undefined = entry.scope;
      for (let step = 0; step < entry.count && outer; step++) outer = outer.parent;
      return outer ? this.instanceTypeScope(outer, entry.ref) : undefined;
    }
    return undefined;
  }

  /** A scope whose `exports` say what it offers (an instance type or a component). */
  private declaredView(scope: Scope): InstanceView {
    const find = (name: string, sort: Sort): ExportDecl | undefined => scope.exports.find((item) => item.name === name && item.sort === sort);
    return {
      func: (name) => {
        const item = find(name, 'func');
        return item ? this.funcAt(scope, String(item.index), name) : undefined;
      },
      type: (name) => {
        const item = find(name, 'type');
        return item ? withName(this.typeAt(scope, String(item.index)), name) : undefined;
      },
      names: () => ({
        funcs: scope.exports.filter((item) => item.sort === 'func').map((item) => item.name),
        types: scope.exports.filter((item) => item.sort === 'type').map((item) => item.name),
      }),
    };
  }

  describe(view: InstanceView): InstanceTypes {
    const { funcs, types } = view.names();
    return {
      funcs: funcs.flatMap((name) => {
        const func = view.func(name);
        return func ? [func] : [];
      }),
      types: new Map(types.map((name) => [name, view.type(name) ?? unsupported(name)])),
    };
  }
}

function withName(type: WitType, name: string): WitType {
  return type.kind === 'unsupported' || type.name === name ? type : { ...type, name };
}

export interface ComponentTypes {
  /** Imported instances (interfaces) by name, with what they declare. */
  imports: Map<string, InstanceTypes>;
  /** Exported instances (interfaces) by name; undefined when their types could not be read. */
  exports: Map<string, InstanceTypes | undefined>;
  /** Functions imported at world level, by name. */
  importedFunctions: string[];
}

/** Reads instance imports and exports from a component's text form (as `print` gives it). */
export function readComponentTypes(wat: string): ComponentTypes {
  const nodes = parseSExpressions(wat);
  const component = nodes.find((node) => headOf(node) === 'component');
  if (!component || component.t !== 'list') throw new ComponentTypesError('not a component');
  const scope = buildScope(component.items.slice(1), undefined);
  const resolver = new Resolver();
  const result: ComponentTypes = { imports: new Map(), exports: new Map(), importedFunctions: [] };
  for (const item of scope.imports) {
    if (item.sort === 'func') result.importedFunctions.push(item.name);
    if (item.sort !== 'instance') continue;
    const view = resolver.instance(scope, String(item.index));
    if (view) result.imports.set(item.name, resolver.describe(view));
  }
  for (const item of scope.exports) {
    if (item.sort !== 'instance') continue;
    const view = resolver.instance(scope, String(item.index));
    result.exports.set(item.name, view ? resolver.describe(view) : undefined);
  }
  return result;
}
