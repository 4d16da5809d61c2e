// The key of a kept-catalogue record (README "Starting from the kept catalogue"): a change to
// the plugin's own files changes it; one in dependency, cache or dot folders does not.
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, expect, it } from 'vitest';
import { catalogueEntry } from '../../src/adapters/kept-catalogue.js';
import { listFingerprintFiles } from '../../src/core/files.js';
import { useTempDir } from '../helpers/temp-dir.js';

const dir = useTempDir('toolport-kept-key-');
let folder: string;
const keyOf = (): string => catalogueEntry(join(dir.path, 'cache'), { kind: 'command', path: folder }, folder, [], '1.0.0').key;

beforeEach(async () => {
  folder = join(dir.path, 'skill');
  for (const sub of ['scripts', 'node_modules/dep', '.venv/lib', '.cache']) await mkdir(join(folder, sub), { recursive: true });
  await writeFile(join(folder, 'agent.toml'), '[tools.convert]\ncommand = "./scripts/convert.sh"\n');
  await writeFile(join(folder, 'scripts', 'convert.sh'), 'echo 1\n');
  await writeFile(join(folder, 'node_modules', 'dep', 'index.js'), 'module.exports = 1;\n');
  await writeFile(join(folder, '.venv', 'lib', 'site.py'), 'x = 1\n');
  await writeFile(join(folder, '.cache', 'state'), 'a\n');
});

it('changes with a file of the plugin, in a subfolder too', async () => {
  const before = keyOf();
  expect(keyOf()).toBe(before);
  await writeFile(join(folder, 'scripts', 'convert.sh'), 'echo 22\n');
  expect(keyOf()).not.toBe(before);
});

it('does not change with node_modules, a virtual environment or a dot folder', async () => {
  const before = keyOf();
  await writeFile(join(folder, 'node_modules', 'dep', 'index.js'), 'module.exports = 22;\n');
  await writeFile(join(folder, '.venv', 'lib', 'site.py'), 'x = 22\n');
  await writeFile(join(folder, '.cache', 'state'), 'abc\n');
  expect(keyOf()).toBe(before);
});

it('changes with the plugin block and with toolport\'s version', () => {
  const before = keyOf();
  const withId = { kind: 'command' as const, path: folder, id: 'other' };
  expect(catalogueEntry(join(dir.path, 'cache'), withId, folder, [], '1.0.0').key).not.toBe(before);
  expect(catalogueEntry(join(dir.path, 'cache'), { kind: 'command', path: folder }, folder, [], '1.0.1').key).not.toBe(before);
});

it('covers at most 2,000 files of a folder', async () => {
  const many = join(folder, 'data');
  await mkdir(many);
  for (let index = 0; index < 2_100; index += 1) await writeFile(join(many, `${index}.txt`), '');
  const covered: string[] = [];
  listFingerprintFiles(folder, covered, { recursive: true });
  expect(covered).toHaveLength(2_000);
  const left = [...Array.from({ length: 2_100 }, (_, index) => join(many, `${index}.txt`))].find((path) => !covered.includes(path)) ?? '';
  const before = keyOf();
  // A file past the limit changes nothing; one within it does.
  await utimes(left, new Date(2001, 0, 1), new Date(2001, 0, 1));
  expect(keyOf()).toBe(before);
  await utimes(covered.find((path) => path.startsWith(many)) ?? '', new Date(2001, 0, 1), new Date(2001, 0, 1));
  expect(keyOf()).not.toBe(before);
});
