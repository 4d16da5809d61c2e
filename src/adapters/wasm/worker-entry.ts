// Where a worker's code is: beside this file in a build, or compiled from the TypeScript
// sources when toolport itself runs from them (tests), since a worker thread cannot load
// TypeScript without a loader that would cost every worker half a second.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type WorkerName = 'worker' | 'transpile-worker';

const fromSources = new Map<WorkerName, Promise<URL>>();

/**
 * A worker's entry module: the compiled file beside this one; or, when toolport runs from
 * its TypeScript sources (the tests do), the worker's modules compiled with the project's
 * TypeScript into a cache keyed by their sources, so a worker starts as fast as in a
 * build. Loading asks early, so the first call does not wait for the compiler.
 */
export function workerEntry(name: WorkerName): Promise<URL> {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return Promise.resolve(new URL(`./${name}.js`, here));
  let compiled = fromSources.get(name);
  if (!compiled) {
    compiled = compileWorkerSources(fileURLToPath(new URL(`./${name}.ts`, here)));
    fromSources.set(name, compiled);
    compiled.catch(() => fromSources.delete(name));
  }
  return compiled;
}

async function compileWorkerSources(entry: string): Promise<URL> {
  const srcRoot = resolve(dirname(entry), '..', '..');
  const sources = new Map<string, string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (sources.has(file)) continue;
    const text = await readFile(file, 'utf8');
    sources.set(file, text);
    // Modules the worker loads: relative imports that are not type-only.
    for (const match of text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+'(\.{1,2}\/[^']+)\.js';/gm)) {
      pending.push(resolve(dirname(file), `${match[1] ?? ''}.ts`));
    }
  }
  const hash = createHash('sha256');
  for (const [file, text] of [...sources].sort(([a], [b]) => a.localeCompare(b))) hash.update(file).update(text);
  // Under node_modules of the checkout, so the worker resolves packages as the sources do.
  const outRoot = join(dirname(srcRoot), 'node_modules', '.cache', 'toolport-wasm-worker', hash.digest('hex').slice(0, 16));
  const url = pathToFileURL(join(outRoot, relative(srcRoot, entry).replace(/\.ts$/, '.js')));
  try {
    await readFile(join(outRoot, 'complete'));
    return url;
  } catch {
    // compile below
  }
  const imported = await import('typescript');
  // TypeScript is CommonJS: under ESM its API arrives as the default export.
  const ts = (imported as unknown as { default?: typeof imported }).default ?? imported;
  for (const [file, text] of sources) {
    const { outputText } = ts.transpileModule(text, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const target = join(outRoot, relative(srcRoot, file).replace(/\.ts$/, '.js'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, outputText);
  }
  await writeFile(join(outRoot, 'package.json'), '{ "type": "module" }\n');
  await writeFile(join(outRoot, 'complete'), '');
  return url;
}
