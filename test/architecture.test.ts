// The import rules of src/: no circle; core depends on nothing of ours outside core; an
// adapter uses core and its own folder only (never config, policy, server, the pipeline or
// another adapter); the pipeline never reaches into adapters, server or config; what
// bin/toolport.js imports before the bundle stays small.
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(path);
      return Promise.resolve(entry.name.endsWith('.ts') ? [path] : []);
    }),
  );
  return nested.flat();
}

/** Relative imports of one file (static, type-only and dynamic), as paths under src/. */
function importsOf(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)].map((match) => match[1] as string);
  return specifiers.map((specifier) => relative(srcDir, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts'));
}

async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const file of await sourceFiles(srcDir)) {
    graph.set(relative(srcDir, file), importsOf(file, await readFile(file, 'utf8')));
  }
  return graph;
}

/** Every cycle's files, found by depth-first search. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next) && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

const topFolder = (path: string): string => (path.includes('/') ? (path.split('/')[0] as string) : '.');

describe('src/ import rules', () => {
  it('the import graph has no circle', async () => {
    expect(findCycles(await importGraph())).toEqual([]);
  });

  it('core imports nothing of toolport outside core', async () => {
    const wrong = [...(await importGraph())].flatMap(([file, imports]) =>
      topFolder(file) === 'core' ? imports.filter((target) => topFolder(target) !== 'core').map((target) => `${file} → ${target}`) : [],
    );
    expect(wrong).toEqual([]);
  });

  it('an adapter imports only core and its own folder', async () => {
    const wrong = [...(await importGraph())].flatMap(([file, imports]) => {
      const parts = file.split('/');
      if (parts[0] !== 'adapters' || parts.length < 3) return [];
      const own = `adapters/${parts[1]}/`;
      return imports.filter((target) => !target.startsWith(own) && topFolder(target) !== 'core').map((target) => `${file} → ${target}`);
    });
    expect(wrong).toEqual([]);
  });

  it('the pipeline and policy do not reach into adapters, server, config or the CLI', async () => {
    const wrong = [...(await importGraph())].flatMap(([file, imports]) =>
      ['pipeline', 'policy'].includes(topFolder(file))
        ? imports.filter((target) => ['adapters', 'server', 'config', 'cli'].includes(topFolder(target))).map((target) => `${file} → ${target}`)
        : [],
    );
    expect(wrong).toEqual([]);
  });

  it('what bin/toolport.js imports before the bundle (dist/core/early-hosts.js) reaches only Node and small core files', async () => {
    // The built files, whose imports are the ones Node runs (type-only imports are gone).
    const distCore = fileURLToPath(new URL('../dist/core/', import.meta.url));
    const reached = new Set<string>();
    const packages = new Set<string>();
    const visit = async (name: string): Promise<void> => {
      if (reached.has(name)) return;
      reached.add(name);
      const text = await readFile(join(distCore, name), 'utf8');
      for (const [, specifier] of text.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gm)) {
        if (specifier?.startsWith('./')) await visit(specifier.slice(2));
        else if (!specifier?.startsWith('node:')) packages.add(specifier ?? '');
      }
    };
    await visit('early-hosts.js');
    expect(packages).toEqual(new Set());
    expect([...reached].sort()).toEqual(['early-hosts.js', 'errors.js', 'files.js', 'format.js', 'process-tree.js', 'state-dir.js']);
  });

  it('finds the imports it checks (a rule over nothing would pass by itself)', async () => {
    const graph = await importGraph();
    expect(graph.get('toolport.ts')).toContain('pipeline/index.ts');
    expect(graph.get('adapters/index.ts')).toContain('adapters/wasm/index.ts');
    expect(findCycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['a.ts']]]))).toEqual([['a.ts', 'b.ts', 'a.ts']]);
  });
});

/** The README's "Architecture" section, up to the next heading of its level or above. */
async function architectureSection(): Promise<string> {
  const readme = await readFile(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const start = readme.indexOf('\n### Architecture\n');
  const next = readme.slice(start + 1).search(/\n#{1,3} /);
  return next === -1 ? readme.slice(start) : readme.slice(start, start + 1 + next);
}

describe('the README\'s Architecture section', () => {
  it('names only files that exist (a path from src/ or the repository, or a file name found under src/)', async () => {
    const section = await architectureSection();
    const all = (await sourceFiles(srcDir)).map((file) => relative(srcDir, file));
    const repo = fileURLToPath(new URL('../', import.meta.url));
    const names = new Set([...section.matchAll(/[\w./-]+\.(?:ts|mjs|js)\b/g)].map((match) => match[0]));
    // Built files are checked by their sources (the test may run before a build).
    const exists = async (name: string): Promise<boolean> => {
      if (!name.includes('/')) return all.some((file) => file.split('/').at(-1) === name);
      const source = name.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      if (all.includes(source)) return true;
      return readFile(join(repo, name)).then(
        () => true,
        () => false,
      );
    };
    const missing = [];
    for (const name of names) if (!(await exists(name))) missing.push(name);
    expect(names.size).toBeGreaterThan(40);
    expect(missing).toEqual([]);
  });

  it('its table of steps has a row for every step file the pipeline imports', async () => {
    const section = await architectureSection();
    const tabled = new Set([...section.matchAll(/^\| [^|]+ \| `([\w-]+\.ts)` \|/gm)].map((match) => match[1]));
    const assembly = await readFile(join(srcDir, 'pipeline/index.ts'), 'utf8');
    // Value imports of pipeline/index.ts from its own folder: the steps, the call's state and the asker.
    const imported = [...assembly.matchAll(/^import \{[^}]*\} from '\.\/([\w-]+)\.js';$/gm)].map((match) => `${match[1]}.ts`);
    const notSteps = new Set(['call.ts', 'ask-client.ts']);
    expect(imported.length).toBeGreaterThan(10);
    expect(imported.filter((file) => !notSteps.has(file) && !tabled.has(file))).toEqual([]);
  });
});
