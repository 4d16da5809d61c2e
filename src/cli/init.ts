// `toolport init`: a folder to start from. Copies the template of the chosen kind (a
// commented toolport.yaml and a small plugin with one tool, hello__greet), writes the
// config's JSON Schema beside it for editors, and for wasm builds the component from its
// WAT and WIT with the wasm-tools toolport already ships.
import { chmod, cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchemaFileName, toConfigJsonSchema } from '../config/json-schema.js';
import { pathExists } from '../core/files.js';

export const initKinds = ['module', 'python', 'command', 'http', 'wasm'] as const;
export type InitKind = (typeof initKinds)[number];

const templatesDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates', 'init');

export interface InitResult {
  /** What was written, with a word on each. */
  readonly files: readonly { name: string; about: string }[];
  /** Steps before the plugin works (start its API). */
  readonly before: readonly string[];
  /** A call to try: tool and JSON arguments. */
  readonly tryCall: string;
}

const about: Record<InitKind, Record<string, string>> = {
  module: { 'hello.mjs': 'a module plugin (JavaScript) with one tool, hello__greet' },
  python: { 'hello.py': 'a ScaiWave plugin (Python) with one tool, hello__greet' },
  command: { hello: 'an EvoClaw skill (SKILL.md, agent.toml, scripts/greet.sh) with one tool, hello__greet' },
  http: {
    'hello.json': 'a Carter manifest describing one endpoint, served as hello__greet',
    'hello-api.mjs': 'the HTTP API it describes (node:http, port 8811)',
  },
  wasm: {
    'hello.wasm': 'an Asterai plugin: a Wasm component with one function, hello__greet',
    'hello.wit': 'its WIT world (plugin id and descriptions)',
    'hello.wat': 'the source of its core module',
  },
};

/** Every file under a folder, as paths relative to it. */
async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? filesUnder(dir, join(prefix, entry.name)) : Promise.resolve([join(prefix, entry.name)]))),
  );
  return nested.flat();
}

/** hello.wat + hello.wit → hello.wasm, a component. */
async function buildComponent(dir: string): Promise<void> {
  const { componentEmbed, componentNew, parse } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  const core = await parse(await readFile(join(dir, 'hello.wat'), 'utf8'));
  const embedded = await componentEmbed({ binary: core, witSource: await readFile(join(dir, 'hello.wit'), 'utf8'), world: 'hello' });
  await writeFile(join(dir, 'hello.wasm'), await componentNew(embedded));
}

export async function initProject(dir: string, kind: InitKind, options: { force?: boolean } = {}): Promise<InitResult> {
  const template = join(templatesDir, kind);
  const names = await filesUnder(template);
  const written = [...names, configSchemaFileName, ...(kind === 'wasm' ? ['hello.wasm'] : [])];
  if (!options.force) {
    const taken = [];
    for (const name of written) if (await pathExists(join(dir, name))) taken.push(name);
    if (taken.length > 0) {
      const shown = relative(process.cwd(), dir);
      const where = shown === '' ? 'this folder' : shown.startsWith('..') ? dir : shown;
      throw Object.assign(new Error(`${where} already has ${taken.sort().join(', ')}; pass --force to overwrite`), { code: 'EEXIST' });
    }
  }
  await mkdir(dir, { recursive: true });
  await cp(template, dir, { recursive: true, force: true });
  // Package managers may drop the executable bit of files they unpack.
  for (const name of names) if (name.endsWith('.sh')) await chmod(join(dir, name), 0o755);
  await writeFile(join(dir, configSchemaFileName), `${JSON.stringify(toConfigJsonSchema(), null, 2)}\n`);
  if (kind === 'wasm') await buildComponent(dir);
  return {
    files: [
      { name: 'toolport.yaml', about: 'the config, with a comment on each key' },
      ...Object.entries(about[kind]).map(([name, text]) => ({ name, about: text })),
      { name: configSchemaFileName, about: 'the config\'s JSON Schema, for editors (refresh: toolport schema > toolport.schema.json)' },
    ],
    before: kind === 'http' ? [`node ${join(dir, 'hello-api.mjs')} &     # the API, on http://127.0.0.1:8811`] : [],
    tryCall: `hello__greet '{"name":"Ada"}'`,
  };
}
