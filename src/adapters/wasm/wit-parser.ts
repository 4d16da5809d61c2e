// A WIT text parser and type resolver: packages (also nested), interfaces, worlds, `use`,
// `include`, every type definition and doc comments. It reads both the synthesized world
// jco prints for a component and the WIT files a plugin author ships beside it.
import { witPrimitives, type ExportedFunction, type WitFunction, type WitPrimitive, type WitType } from './wit-types.js';

export interface PackageName {
  namespace: string;
  name: string;
  version?: string;
}

export type TypeExpr =
  | { kind: 'prim'; prim: WitPrimitive }
  | { kind: 'list'; element: TypeExpr; length?: number }
  | { kind: 'tuple'; items: TypeExpr[] }
  | { kind: 'option'; inner: TypeExpr }
  | { kind: 'result'; ok?: TypeExpr; err?: TypeExpr }
  | { kind: 'handle'; what: string }
  | { kind: 'ref'; name: string };

export type TypeDefAst =
  | { kind: 'record'; name: string; docs?: string; fields: { name: string; type: TypeExpr; docs?: string }[] }
  | { kind: 'variant'; name: string; docs?: string; cases: { name: string; type?: TypeExpr; docs?: string }[] }
  | { kind: 'enum'; name: string; docs?: string; cases: { name: string; docs?: string }[] }
  | { kind: 'flags'; name: string; docs?: string; flags: { name: string; docs?: string }[] }
  | { kind: 'alias'; name: string; docs?: string; type: TypeExpr }
  | { kind: 'resource'; name: string; docs?: string };

export interface FuncAst {
  name: string;
  docs?: string;
  async: boolean;
  params: { name: string; type: TypeExpr }[];
  result?: TypeExpr;
}

export interface UsePathAst {
  package?: PackageName;
  interface: string;
}

export interface UseAst {
  path: UsePathAst;
  names: { name: string; as?: string }[];
}

export interface InterfaceAst {
  name: string;
  docs?: string;
  types: Map<string, TypeDefAst>;
  uses: UseAst[];
  funcs: FuncAst[];
}

export type WorldItemAst =
  | { kind: 'interface'; path: UsePathAst; docs?: string }
  | { kind: 'inline'; name: string; iface: InterfaceAst; docs?: string }
  | { kind: 'func'; func: FuncAst };

export interface WorldAst {
  name: string;
  docs?: string;
  imports: WorldItemAst[];
  exports: WorldItemAst[];
  types: Map<string, TypeDefAst>;
  uses: UseAst[];
  includes: UsePathAst[];
}

export interface PackageAst {
  name?: PackageName;
  docs?: string;
  interfaces: Map<string, InterfaceAst>;
  worlds: Map<string, WorldAst>;
  /** Top-level `use a:b/c as d;` aliases of interfaces. */
  aliases: Map<string, UsePathAst>;
}

export class WitSyntaxError extends Error {
  override readonly name = 'WitSyntaxError';
}

export function formatPackageName(name: PackageName): string {
  return `${name.namespace}:${name.name}${name.version ? `@${name.version}` : ''}`;
}

/** `ns:pkg/iface@1.0.0`, the name a component imports or exports an interface under. */
export function formatInterfaceName(pkg: PackageName | undefined, iface: string): string {
  if (!pkg) return iface;
  return `${pkg.namespace}:${pkg.name}/${iface}${pkg.version ? `@${pkg.version}` : ''}`;
}

/** Splits `ns:pkg/iface@version` into its parts; undefined for a plain name. */
export function parseInterfaceName(full: string): { package: PackageName; interface: string } | undefined {
  const match = /^([a-z0-9-]+(?::[a-z0-9-]+)*):([a-z0-9-]+)\/([a-z0-9-]+)(?:@(.+))?$/i.exec(full);
  if (!match) return undefined;
  const [, namespace, name, iface, version] = match as unknown as [string, string, string, string, string | undefined];
  return { package: { namespace, name, ...(version !== undefined && { version }) }, interface: iface };
}

// ---------------------------------------------------------------------------------------
// Lexer

type TokenKind = 'id' | 'punct' | 'version' | 'number' | 'eof';

interface Token {
  kind: TokenKind;
  value: string;
  /** `%name`: an identifier that is never a keyword. */
  escaped?: boolean;
  docs?: string;
  line: number;
  column: number;
}

const punctuation = new Set(['{', '}', '(', ')', '<', '>', ',', ';', ':', '=', '.', '/', '@', '*', '_']);

function tokenize(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  let line = 1;
  let lineStart = 0;
  let docs: string[] = [];
  const fail = (message: string): never => {
    throw new WitSyntaxError(`${source}:${line}:${index - lineStart + 1}: ${message}`);
  };
  const advanceLines = (from: number, to: number): void => {
    for (let at = from; at < to; at++) {
      if (text.charCodeAt(at) === 10) {
        line++;
        lineStart = at + 1;
      }
    }
  };
  const push = (kind: TokenKind, value: string, start: number, extra: Partial<Token> = {}): void => {
    const token: Token = { kind, value, line, column: start - lineStart + 1, ...extra };
    if (docs.length > 0) token.docs = docs.join('\n').trim();
    docs = [];
    tokens.push(token);
  };

  while (index < text.length) {
    const char = text[index] as string;
    if (char === '\n') {
      line++;
      index++;
      lineStart = index;
      continue;
    }
    if (/\s/.test(char)) {
      index++;
      continue;
    }
    if (text.startsWith('///', index) && text[index + 3] !== '/') {
      const end = text.indexOf('\n', index);
      const stop = end === -1 ? text.length : end;
      docs.push(text.slice(index + 3, stop).replace(/^ /, ''));
      index = stop;
      continue;
    }
    if (text.startsWith('//', index)) {
      const end = text.indexOf('\n', index);
      index = end === -1 ? text.length : end;
      continue;
    }
    if (text.startsWith('/*', index)) {
      const isDoc = text.startsWith('/**', index) && !text.startsWith('/**/', index);
      let depth = 0;
      let at = index;
      while (at < text.length) {
        if (text.startsWith('/*', at)) {
          depth++;
          at += 2;
        } else if (text.startsWith('*/', at)) {
          depth--;
          at += 2;
          if (depth === 0) break;
        } else {
          at++;
        }
      }
      if (depth !== 0) fail('unterminated block comment');
      if (isDoc) {
        const body = text.slice(index + 3, at - 2);
        docs.push(
          body
            .split('\n')
            .map((row) => row.replace(/^\s*\* ?/, ''))
            .join('\n')
            .trim(),
        );
      }
      advanceLines(index, at);
      index = at;
      continue;
    }
    const start = index;
    if (text.startsWith('->', index)) {
      push('punct', '->', start);
      index += 2;
      continue;
    }
    if (/[0-9]/.test(char)) {
      // A number (list length) or a semver version: digits and dots, then -pre and +build
      // parts; a dot is part of it only when a digit or letter follows (`@0.1.0.{x}`).
      let at = index;
      const isWordChar = (offset: number): boolean => /[0-9A-Za-z]/.test(text[offset] ?? '');
      while (at < text.length) {
        const next = text[at] as string;
        if (/[0-9A-Za-z-]/.test(next)) at++;
        else if ((next === '.' || next === '+') && isWordChar(at + 1)) at++;
        else break;
      }
      const value = text.slice(index, at);
      index = at;
      push(/^[0-9]+$/.test(value) ? 'number' : 'version', value, start);
      continue;
    }
    if (char === '%' || /[A-Za-z]/.test(char)) {
      const escaped = char === '%';
      let at = escaped ? index + 1 : index;
      while (at < text.length && /[A-Za-z0-9-]/.test(text[at] as string)) at++;
      const value = text.slice(escaped ? index + 1 : index, at);
      if (value === '') fail('expected an identifier after %');
      index = at;
      push('id', value, start, escaped ? { escaped: true } : {});
      continue;
    }
    if (punctuation.has(char)) {
      push('punct', char, start);
      index++;
      continue;
    }
    fail(`unexpected character ${JSON.stringify(char)}`);
  }
  tokens.push({ kind: 'eof', value: '', line, column: index - lineStart + 1 });
  return tokens;
}

// ---------------------------------------------------------------------------------------
// Parser

const handleKinds = new Set(['own', 'borrow']);

class Parser {
  private position = 0;
  private readonly tokens: Token[];

  constructor(
    text: string,
    private readonly source: string,
  ) {
    this.tokens = tokenize(text, source);
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.position + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.position++;
    return token;
  }

  private fail(message: string, token: Token = this.peek()): never {
    const found = token.kind === 'eof' ? 'end of file' : `"${token.value}"`;
    throw new WitSyntaxError(`${this.source}:${token.line}:${token.column}: ${message}, found ${found}`);
  }

  private isPunct(value: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'punct' && token.value === value;
  }

  private isKeyword(value: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'id' && !token.escaped && token.value === value;
  }

  private expectPunct(value: string): Token {
    if (!this.isPunct(value)) this.fail(`expected "${value}"`);
    return this.next();
  }

  private expectKeyword(value: string): Token {
    if (!this.isKeyword(value)) this.fail(`expected "${value}"`);
    return this.next();
  }

  private expectId(what = 'an identifier'): Token {
    if (this.peek().kind !== 'id') this.fail(`expected ${what}`);
    return this.next();
  }

  private optionalPunct(value: string): boolean {
    if (this.isPunct(value)) {
      this.next();
      return true;
    }
    return false;
  }

  /** `@since(...)`, `@unstable(...)`, `@deprecated(...)`: accepted and ignored. */
  private skipGates(): string | undefined {
    let docs: string | undefined;
    while (this.isPunct('@') && this.peek(1).kind === 'id') {
      docs ??= this.peek().docs;
      this.next();
      this.next();
      if (this.isPunct('(')) this.skipBalanced('(', ')');
    }
    return docs;
  }

  private skipBalanced(open: string, close: string): void {
    this.expectPunct(open);
    let depth = 1;
    while (depth > 0) {
      const token = this.next();
      if (token.kind === 'eof') this.fail(`expected "${close}"`, token);
      if (token.kind === 'punct' && token.value === open) depth++;
      if (token.kind === 'punct' && token.value === close) depth--;
    }
  }

  private docsHere(gateDocs: string | undefined): string | undefined {
    return gateDocs ?? this.peek().docs;
  }

  parseFile(): PackageAst[] {
    const packages: PackageAst[] = [];
    const root: PackageAst = emptyPackage();
    packages.push(root);
    const first = this.skipGates();
    if (this.isKeyword('package') && !this.isNestedPackage()) {
      root.docs = this.docsHere(first);
      this.next();
      root.name = this.parsePackageName();
      this.expectPunct(';');
    }
    while (this.peek().kind !== 'eof') {
      const gateDocs = this.skipGates();
      if (this.isKeyword('package')) {
        const docs = this.docsHere(gateDocs);
        this.next();
        const nested = emptyPackage();
        nested.name = this.parsePackageName();
        if (docs) nested.docs = docs;
        this.expectPunct('{');
        while (!this.isPunct('}')) this.parsePackageItem(nested, this.skipGates());
        this.expectPunct('}');
        packages.push(nested);
      } else {
        this.parsePackageItem(root, gateDocs);
      }
    }
    return packages;
  }

  private isNestedPackage(): boolean {
    // `package a:b@1.0.0 { ... }` versus `package a:b@1.0.0;`
    let offset = 1;
    while (this.peek(offset).kind !== 'eof') {
      const token = this.peek(offset);
      if (token.kind === 'punct' && token.value === ';') return false;
      if (token.kind === 'punct' && token.value === '{') return true;
      offset++;
    }
    return false;
  }

  private parsePackageName(): PackageName {
    const parts = [this.expectId('a package namespace').value];
    this.expectPunct(':');
    parts.push(this.expectId('a package name').value);
    while (this.isPunct(':')) {
      this.next();
      parts.push(this.expectId('a package name').value);
    }
    const name = parts.pop() as string;
    const result: PackageName = { namespace: parts.join(':'), name };
    if (this.optionalPunct('@')) result.version = this.parseVersion();
    return result;
  }

  private parseVersion(): string {
    const token = this.next();
    if (token.kind !== 'version' && token.kind !== 'number') this.fail('expected a version', token);
    return token.value;
  }

  private parsePackageItem(pkg: PackageAst, gateDocs: string | undefined): void {
    const docs = this.docsHere(gateDocs);
    if (this.isKeyword('interface')) {
      this.next();
      const name = this.expectId('an interface name').value;
      const iface = this.parseInterfaceBody(name, docs);
      pkg.interfaces.set(name, iface);
      return;
    }
    if (this.isKeyword('world')) {
      this.next();
      const name = this.expectId('a world name').value;
      pkg.worlds.set(name, this.parseWorldBody(name, docs));
      return;
    }
    if (this.isKeyword('use')) {
      this.next();
      const path = this.parseUsePath();
      let alias = path.interface;
      if (this.isKeyword('as')) {
        this.next();
        alias = this.expectId().value;
      }
      this.expectPunct(';');
      pkg.aliases.set(alias, path);
      return;
    }
    this.fail('expected "interface", "world", "use" or "package"');
  }

  private parseInterfaceBody(name: string, docs: string | undefined): InterfaceAst {
    const iface: InterfaceAst = { name, types: new Map(), uses: [], funcs: [] };
    if (docs) iface.docs = docs;
    this.expectPunct('{');
    while (!this.isPunct('}')) {
      const gateDocs = this.skipGates();
      if (this.isPunct('}')) break;
      const itemDocs = this.docsHere(gateDocs);
      if (this.isKeyword('use')) {
        iface.uses.push(this.parseUse());
      } else if (this.isTypeDefStart()) {
        const def = this.parseTypeDef(itemDocs);
        iface.types.set(def.name, def);
      } else {
        iface.funcs.push(this.parseNamedFunc(itemDocs));
      }
    }
    this.expectPunct('}');
    return iface;
  }

  private isTypeDefStart(): boolean {
    const token = this.peek();
    if (token.kind !== 'id' || token.escaped) return false;
    if (!['record', 'variant', 'enum', 'flags', 'type', 'resource'].includes(token.value)) return false;
    // `record: func()` is a function named record.
    return !this.isPunct(':', 1);
  }

  private parseWorldBody(name: string, docs: string | undefined): WorldAst {
    const world: WorldAst = { name, imports: [], exports: [], types: new Map(), uses: [], includes: [] };
    if (docs) world.docs = docs;
    this.expectPunct('{');
    while (!this.isPunct('}')) {
      const gateDocs = this.skipGates();
      if (this.isPunct('}')) break;
      const itemDocs = this.docsHere(gateDocs);
      if (this.isKeyword('import') || this.isKeyword('export')) {
        const direction = this.next().value;
        const item = this.parseWorldItem(itemDocs);
        (direction === 'import' ? world.imports : world.exports).push(item);
      } else if (this.isKeyword('use')) {
        world.uses.push(this.parseUse());
      } else if (this.isKeyword('include')) {
        this.next();
        world.includes.push(this.parseUsePath());
        if (this.isKeyword('with')) {
          this.next();
          this.skipBalanced('{', '}');
        }
        this.optionalPunct(';');
      } else if (this.isTypeDefStart()) {
        const def = this.parseTypeDef(itemDocs);
        world.types.set(def.name, def);
      } else {
        this.fail('expected "import", "export", "use", "include" or a type definition');
      }
    }
    this.expectPunct('}');
    return world;
  }

  private parseWorldItem(docs: string | undefined): WorldItemAst {
    // `name: func(...)`, `name: interface { ... }`, or a path: `name;` / `ns:pkg/name@v;`
    const isNamedExtern =
      this.peek().kind === 'id' &&
      this.isPunct(':', 1) &&
      (this.isKeyword('func', 2) || this.isKeyword('interface', 2) || (this.isKeyword('async', 2) && this.isKeyword('func', 3)));
    if (isNamedExtern) {
      const name = this.next().value;
      this.expectPunct(':');
      if (this.isKeyword('interface')) {
        this.next();
        const iface = this.parseInterfaceBody(name, docs);
        this.optionalPunct(';');
        return { kind: 'inline', name, iface, ...(docs && { docs }) };
      }
      const func = this.parseFuncType(name, docs);
      this.expectPunct(';');
      return { kind: 'func', func };
    }
    const path = this.parseUsePath();
    this.expectPunct(';');
    return { kind: 'interface', path, ...(docs && { docs }) };
  }

  private parseUsePath(): UsePathAst {
    const first = this.expectId('an interface name');
    if (!this.isPunct(':')) return { interface: first.value };
    const namespace = [first.value];
    this.next();
    let name = this.expectId('a package name').value;
    while (this.isPunct(':')) {
      this.next();
      namespace.push(name);
      name = this.expectId('a package name').value;
    }
    this.expectPunct('/');
    const iface = this.expectId('an interface name').value;
    const pkg: PackageName = { namespace: namespace.join(':'), name };
    if (this.optionalPunct('@')) pkg.version = this.parseVersion();
    return { package: pkg, interface: iface };
  }

  private parseUse(): UseAst {
    this.expectKeyword('use');
    const path = this.parseUsePath();
    this.expectPunct('.');
    this.expectPunct('{');
    const names: UseAst['names'] = [];
    while (!this.isPunct('}')) {
      const name = this.expectId('a type name').value;
      if (this.isKeyword('as')) {
        this.next();
        names.push({ name, as: this.expectId('a type name').value });
      } else {
        names.push({ name });
      }
      if (!this.optionalPunct(',')) break;
    }
    this.expectPunct('}');
    this.expectPunct(';');
    return { path, names };
  }

  private parseNamedFunc(docs: string | undefined): FuncAst {
    const name = this.expectId('a function name').value;
    this.expectPunct(':');
    const func = this.parseFuncType(name, docs);
    this.expectPunct(';');
    return func;
  }

  private parseFuncType(name: string, docs: string | undefined): FuncAst {
    let isAsync = false;
    if (this.isKeyword('async')) {
      this.next();
      isAsync = true;
    }
    this.expectKeyword('func');
    const params = this.parseParamList();
    const func: FuncAst = { name, async: isAsync, params };
    if (docs) func.docs = docs;
    if (this.optionalPunct('->')) {
      if (this.isPunct('(')) {
        // Named results were removed from WIT; keep the function visible as unsupported.
        this.skipBalanced('(', ')');
        func.result = { kind: 'handle', what: 'named results' };
      } else {
        func.result = this.parseType();
      }
    }
    return func;
  }

  private parseParamList(): FuncAst['params'] {
    this.expectPunct('(');
    const params: FuncAst['params'] = [];
    while (!this.isPunct(')')) {
      const name = this.expectId('a parameter name').value;
      this.expectPunct(':');
      params.push({ name, type: this.parseType() });
      if (!this.optionalPunct(',')) break;
    }
    this.expectPunct(')');
    return params;
  }

  private parseTypeDef(docs: string | undefined): TypeDefAst {
    const keyword = this.next().value;
    const name = this.expectId('a type name').value;
    const withDocs = <T extends TypeDefAst>(def: T): T => (docs ? { ...def, docs } : def);
    switch (keyword) {
      case 'type': {
        this.expectPunct('=');
        const type = this.parseType();
        this.expectPunct(';');
        return withDocs({ kind: 'alias', name, type });
      }
      case 'resource': {
        if (this.isPunct('{')) this.skipBalanced('{', '}');
        else this.expectPunct(';');
        return withDocs({ kind: 'resource', name });
      }
      case 'record': {
        const fields = this.parseBody(() => {
          const fieldDocs = this.peek().docs;
          const field = this.expectId('a field name').value;
          this.expectPunct(':');
          const type = this.parseType();
          return { name: field, type, ...(fieldDocs && { docs: fieldDocs }) };
        });
        return withDocs({ kind: 'record', name, fields });
      }
      case 'variant': {
        const cases = this.parseBody(() => {
          const caseDocs = this.peek().docs;
          const label = this.expectId('a case name').value;
          let type: TypeExpr | undefined;
          if (this.optionalPunct('(')) {
            type = this.parseType();
            this.expectPunct(')');
          }
          return { name: label, ...(type && { type }), ...(caseDocs && { docs: caseDocs }) };
        });
        return withDocs({ kind: 'variant', name, cases });
      }
      case 'enum':
      case 'flags': {
        const labels = this.parseBody(() => {
          const labelDocs = this.peek().docs;
          const label = this.expectId('a name').value;
          return { name: label, ...(labelDocs && { docs: labelDocs }) };
        });
        return keyword === 'enum' ? withDocs({ kind: 'enum', name, cases: labels }) : withDocs({ kind: 'flags', name, flags: labels });
      }
      default:
        return this.fail('expected a type definition');
    }
  }

  /** `{ item, item, }` with an optional trailing comma. */
  private parseBody<T>(item: () => T): T[] {
    this.expectPunct('{');
    const items: T[] = [];
    while (!this.isPunct('}')) {
      this.skipGates();
      items.push(item());
      if (!this.optionalPunct(',')) break;
    }
    this.expectPunct('}');
    return items;
  }

  private parseType(): TypeExpr {
    const token = this.expectId('a type');
    const name = token.value;
    if (token.escaped) return { kind: 'ref', name };
    if (name === 'float32') return { kind: 'prim', prim: 'f32' };
    if (name === 'float64') return { kind: 'prim', prim: 'f64' };
    if (witPrimitives.has(name)) return { kind: 'prim', prim: name as WitPrimitive };
    switch (name) {
      case 'list': {
        this.expectPunct('<');
        const element = this.parseType();
        let length: number | undefined;
        if (this.optionalPunct(',')) {
          const size = this.next();
          if (size.kind !== 'number') this.fail('expected a list length', size);
          length = Number(size.value);
        }
        this.expectPunct('>');
        return length === undefined ? { kind: 'list', element } : { kind: 'list', element, length };
      }
      case 'option': {
        this.expectPunct('<');
        const inner = this.parseType();
        this.expectPunct('>');
        return { kind: 'option', inner };
      }
      case 'result': {
        if (!this.optionalPunct('<')) return { kind: 'result' };
        let ok: TypeExpr | undefined;
        if (!this.optionalPunct('_')) ok = this.parseType();
        let err: TypeExpr | undefined;
        if (this.optionalPunct(',')) err = this.parseType();
        this.expectPunct('>');
        return { kind: 'result', ...(ok && { ok }), ...(err && { err }) };
      }
      case 'tuple': {
        this.expectPunct('<');
        const items: TypeExpr[] = [];
        while (!this.isPunct('>')) {
          items.push(this.parseType());
          if (!this.optionalPunct(',')) break;
        }
        this.expectPunct('>');
        return { kind: 'tuple', items };
      }
      case 'future':
      case 'stream': {
        if (this.isPunct('<')) this.skipBalanced('<', '>');
        return { kind: 'handle', what: name };
      }
      case 'error-context':
        return { kind: 'handle', what: name };
      default:
        if (handleKinds.has(name) && this.isPunct('<')) {
          this.next();
          const resource = this.expectId('a resource name').value;
          this.expectPunct('>');
          return { kind: 'handle', what: `${name}<${resource}>` };
        }
        return { kind: 'ref', name };
    }
  }
}

function emptyPackage(): PackageAst {
  return { interfaces: new Map(), worlds: new Map(), aliases: new Map() };
}

/** Parses one WIT file: its package (if it declares one) and any nested packages. */
export function parseWit(text: string, source = 'wit'): PackageAst[] {
  return new Parser(text, source).parseFile();
}

// ---------------------------------------------------------------------------------------
// Resolution

/** Types of interfaces that are known from elsewhere (the component binary). */
export interface ExternalTypes {
  lookup(interfaceName: string, typeName: string): WitType | undefined;
}

export interface ResolvedWorld {
  package: PackageName | undefined;
  world: string;
  docs?: string;
  exports: ExportedFunction[];
  /** Every exported interface by full name, also those whose definition is not in the WIT. */
  exportedInterfaces: string[];
  /** Imported interfaces by full name, and world-level imported functions by name. */
  imports: { interfaces: string[]; functions: string[] };
}

type Scope = { pkg: PackageAst; types: Map<string, TypeDefAst>; uses: UseAst[]; label: string };

export interface WitResolver {
  readonly packages: readonly PackageAst[];
  resolveWorld(pkg: PackageAst, worldName: string): ResolvedWorld;
  /** Functions of a named interface, resolved; undefined when the interface is unknown. */
  resolveInterface(fullName: string): { docs?: string; funcs: WitFunction[] } | undefined;
}

function samePackage(a: PackageName | undefined, b: PackageName | undefined, loose: boolean): boolean {
  if (!a || !b) return a === b;
  if (a.namespace !== b.namespace || a.name !== b.name) return false;
  return loose || a.version === b.version;
}

export function createWitResolver(packages: readonly PackageAst[], external?: ExternalTypes): WitResolver {
  const cache = new Map<string, WitType>();

  function findPackage(name: PackageName | undefined, from: PackageAst): PackageAst | undefined {
    if (!name) return from;
    const exact = packages.find((pkg) => samePackage(pkg.name, name, false));
    if (exact) return exact;
    const loose = packages.filter((pkg) => samePackage(pkg.name, name, true));
    return loose.length === 1 ? loose[0] : undefined;
  }

  function findInterface(path: UsePathAst, from: PackageAst): { pkg: PackageAst; iface: InterfaceAst } | undefined {
    if (!path.package) {
      const alias = from.aliases.get(path.interface);
      if (alias) return findInterface(alias, from);
    }
    const pkg = findPackage(path.package, from);
    const iface = pkg?.interfaces.get(path.interface);
    return pkg && iface ? { pkg, iface } : undefined;
  }

  function interfaceScope(pkg: PackageAst, iface: InterfaceAst): Scope {
    return { pkg, types: iface.types, uses: iface.uses, label: formatInterfaceName(pkg.name, iface.name) };
  }

  function resolveName(scope: Scope, name: string): WitType {
    const key = `${scope.label}#${name}`;
    const cached = cache.get(key);
    if (cached) return cached;
    const resolved = lookupName(scope, name);
    cache.set(key, resolved);
    return resolved;
  }

  function lookupName(scope: Scope, name: string): WitType {
    const def = scope.types.get(name);
    if (def) return resolveDef(scope, def);
    for (const use of scope.uses) {
      const entry = use.names.find((item) => (item.as ?? item.name) === name);
      if (!entry) continue;
      const target = findInterface(use.path, scope.pkg);
      if (target) return withName(resolveName(interfaceScope(target.pkg, target.iface), entry.name), name);
      const fullName = formatInterfaceName(use.path.package ?? scope.pkg.name, use.path.interface);
      const found = external?.lookup(fullName, entry.name);
      if (found) return withName(found, name);
      return { kind: 'unsupported', what: `type "${entry.name}" of ${fullName} (its definition is not available)` };
    }
    return { kind: 'unsupported', what: `unknown type "${name}" in ${scope.label}` };
  }

  function withName(type: WitType, name: string): WitType {
    return type.name === name ? type : { ...type, name };
  }

  function resolveDef(scope: Scope, def: TypeDefAst): WitType {
    const meta = { name: def.name, ...(def.docs && { docs: def.docs }) };
    switch (def.kind) {
      case 'alias': {
        const target = resolveExpr(scope, def.type);
        return { ...target, ...meta, ...(!def.docs && target.docs && { docs: target.docs }) };
      }
      case 'resource':
        return { kind: 'unsupported', what: `resource ${def.name}`, ...meta };
      case 'record':
        return {
          kind: 'record',
          ...meta,
          fields: def.fields.map((field) => ({ name: field.name, type: resolveExpr(scope, field.type), ...(field.docs && { docs: field.docs }) })),
        };
      case 'variant':
        return {
          kind: 'variant',
          ...meta,
          cases: def.cases.map((item) => ({
            name: item.name,
            ...(item.type && { type: resolveExpr(scope, item.type) }),
            ...(item.docs && { docs: item.docs }),
          })),
        };
      case 'enum':
        return { kind: 'enum', ...meta, cases: def.cases };
      case 'flags':
        return { kind: 'flags', ...meta, flags: def.flags };
    }
  }

  function resolveExpr(scope: Scope, expr: TypeExpr): WitType {
    switch (expr.kind) {
      case 'prim':
        return { kind: expr.prim };
      case 'list':
        return expr.length === undefined
          ? { kind: 'list', element: resolveExpr(scope, expr.element) }
          : { kind: 'list', element: resolveExpr(scope, expr.element), length: expr.length };
      case 'tuple':
        return { kind: 'tuple', items: expr.items.map((item) => resolveExpr(scope, item)) };
      case 'option':
        return { kind: 'option', inner: resolveExpr(scope, expr.inner) };
      case 'result':
        return {
          kind: 'result',
          ...(expr.ok && { ok: resolveExpr(scope, expr.ok) }),
          ...(expr.err && { err: resolveExpr(scope, expr.err) }),
        };
      case 'handle':
        return { kind: 'unsupported', what: expr.what };
      case 'ref':
        return resolveName(scope, expr.name);
    }
  }

  function resolveFunc(scope: Scope, func: FuncAst): WitFunction {
    const resolved: WitFunction = {
      name: func.name,
      params: func.params.map((param) => ({ name: param.name, type: resolveExpr(scope, param.type) })),
    };
    if (func.result) resolved.result = resolveExpr(scope, func.result);
    if (func.async) resolved.async = true;
    if (func.docs) resolved.docs = func.docs;
    return resolved;
  }

  function collectWorld(pkg: PackageAst, world: WorldAst, seen: Set<WorldAst>): { imports: WorldItemAst[]; exports: WorldItemAst[] } {
    const imports = [...world.imports];
    const exports = [...world.exports];
    seen.add(world);
    for (const include of world.includes) {
      const target = findPackage(include.package, pkg);
      const included = target?.worlds.get(include.interface);
      if (!target || !included || seen.has(included)) continue;
      const more = collectWorld(target, included, seen);
      imports.push(...more.imports);
      exports.push(...more.exports);
    }
    return { imports, exports };
  }

  return {
    packages,
    resolveWorld(pkg, worldName) {
      const world = pkg.worlds.get(worldName);
      if (!world) throw new Error(`no world "${worldName}"`);
      const scope: Scope = { pkg, types: world.types, uses: world.uses, label: `world ${worldName}` };
      const { imports, exports } = collectWorld(pkg, world, new Set());
      const result: ResolvedWorld = {
        package: pkg.name,
        world: worldName,
        ...(world.docs && { docs: world.docs }),
        exports: [],
        exportedInterfaces: [],
        imports: { interfaces: [], functions: [] },
      };
      for (const item of exports) {
        if (item.kind === 'func') {
          result.exports.push({ func: resolveFunc(scope, item.func) });
        } else if (item.kind === 'inline') {
          result.exportedInterfaces.push(item.name);
          const inlineScope: Scope = { pkg, types: item.iface.types, uses: item.iface.uses, label: item.name };
          for (const func of item.iface.funcs) {
            result.exports.push({ interface: item.name, func: resolveFunc(inlineScope, func), ...(item.docs && { interfaceDocs: item.docs }) });
          }
        } else {
          const fullName = formatInterfaceName(item.path.package ?? pkg.name, item.path.interface);
          result.exportedInterfaces.push(fullName);
          const target = findInterface(item.path, pkg);
          if (!target) continue;
          const ifaceScope = interfaceScope(target.pkg, target.iface);
          const docs = item.docs ?? target.iface.docs;
          for (const func of target.iface.funcs) {
            result.exports.push({ interface: fullName, func: resolveFunc(ifaceScope, func), ...(docs && { interfaceDocs: docs }) });
          }
        }
      }
      for (const item of imports) {
        if (item.kind === 'func') result.imports.functions.push(item.func.name);
        else if (item.kind === 'inline') result.imports.interfaces.push(item.name);
        else result.imports.interfaces.push(formatInterfaceName(item.path.package ?? pkg.name, item.path.interface));
      }
      return result;
    },
    resolveInterface(fullName) {
      const parsed = parseInterfaceName(fullName);
      if (!parsed) return undefined;
      const root = packages[0];
      if (!root) return undefined;
      const target = findInterface({ package: parsed.package, interface: parsed.interface }, root);
      if (!target) return undefined;
      const scope = interfaceScope(target.pkg, target.iface);
      return { ...(target.iface.docs && { docs: target.iface.docs }), funcs: target.iface.funcs.map((func) => resolveFunc(scope, func)) };
    },
  };
}
