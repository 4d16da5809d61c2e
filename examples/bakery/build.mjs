// Builds the bakery example into a Wasm component: TypeScript → JavaScript (TypeScript's
// transpiler) → component (componentize-js), written to examples/bakery.wasm, with a
// stamp of the sources it came from. Run with `npm run build:examples` (dev dependencies).
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = join(here, '..', 'bakery.wasm');

async function filesUnder(dir) {
  const files = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else files.push(path);
  }
  return files;
}

/** The hash of what the component is built from: the TypeScript source and the WIT. */
export async function sourcesHash() {
  const hash = createHash('sha256');
  for (const file of [join(here, 'plugin.ts'), ...(await filesUnder(join(here, 'wit')))]) {
    hash.update(relative(here, file)).update(await readFile(file, 'utf8'));
  }
  return hash.digest('hex').slice(0, 16);
}

export const stampPath = join(here, 'bakery.wasm.sources');

async function build() {
  // componentize-js reads the WIT through WASI; preview2-shim 0.26.1 preopens nothing by default.
  const { _setPreopens } = await import('@bytecodealliance/preview2-shim/filesystem');
  _setPreopens({ '/': '/' });
  const { componentize } = await import('@bytecodealliance/componentize-js');
  const ts = (await import('typescript')).default;

  const { outputText } = ts.transpileModule(await readFile(join(here, 'plugin.ts'), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const scratch = await mkdtemp(join(tmpdir(), 'bakery-'));
  try {
    const source = join(scratch, 'plugin.js');
    await writeFile(source, outputText);
    const started = Date.now();
    const { component } = await componentize({
      sourcePath: source,
      witPath: join(here, 'wit'),
      worldName: 'plugin',
      // console.log needs stdio; nothing else (no clocks, random numbers or HTTP).
      disableFeatures: ['random', 'clocks', 'http', 'fetch-event'],
    });
    await writeFile(out, component);
    await writeFile(stampPath, `${await sourcesHash()}\n`);
    process.stderr.write(`built ${out} (${(component.length / 1e6).toFixed(1)} MB) in ${Date.now() - started} ms\n`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await build();
}
