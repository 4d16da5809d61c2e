// The skills catalog's updates (core/skills.ts) on real folders: they run one after another,
// so the last one asked for is what is served.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadSkillCatalog, servedManifest, type SkillFolder } from '../../src/core/skills.js';
import { useTempDir } from '../helpers/temp-dir.js';

const dir = useTempDir('toolport-skills-');


async function skill(name: string): Promise<SkillFolder> {
  const folder = join(dir.path, name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'SKILL.md'), `---\nname: ${name}\ndescription: The ${name} skill.\n---\n\n# ${name}\n`);
  return { name, folder, tools: [] };
}

describe('the skills catalog', () => {
  it('serves what the last update asked for, when a longer one was asked for first', async () => {
    const alpha = await skill('alpha');
    const many = [alpha, ...(await Promise.all(Array.from({ length: 30 }, (_, index) => skill(`extra-${index}`))))];
    const catalog = await loadSkillCatalog([alpha], () => {});
    expect(catalog).toBeDefined();
    const longer = catalog?.update(many);
    const last = catalog?.update([alpha]);
    expect(await longer).toBe(true);
    expect(await last).toBe(true);
    const entries = (catalog?.extension as { entries?: readonly { uri: string }[] } | undefined)?.entries ?? [];
    expect(entries.map((entry) => entry.uri)).toEqual(['skill://alpha/SKILL.md']);
  });

  it('says whether the list changed', async () => {
    const alpha = await skill('alpha');
    const catalog = await loadSkillCatalog([alpha], () => {});
    expect(await catalog?.update([alpha])).toBe(false);
    expect(await catalog?.update([])).toBe(true);
  });
});

describe('a SKILL.md with nested metadata (EvoClaw)', () => {
  const written = [
    '---',
    'name: prices',
    'version: 1.10',
    'description: "Quotes: \\"spot\\" prices, déjà vu #1"',
    'tags: [crypto, "a: b"]',
    'odd key: yes',
    "author: Ann O'Neil (ops) / 2.0",
    'note: "1.5"',
    'empty: []',
    'metadata:',
    '  evoclaw:',
    '    permissions: [internet]',
    '    env: [PRICES_KEY]',
    '  plain: text',
    '  "2024": released',
    '  "True": "1e3"',
    '  "0x10": null',
    '---',
    '',
    '# Prices',
    '',
  ].join('\n');
  const expected = {
    name: 'prices',
    version: '1.10',
    description: 'Quotes: "spot" prices, déjà vu #1',
    tags: ['crypto', 'a: b'],
    'odd key': 'yes',
    author: "Ann O'Neil (ops) / 2.0",
    note: '1.5',
    empty: [],
    metadata: { evoclaw: '{"permissions":["internet"],"env":["PRICES_KEY"]}', plain: 'text', '2024': 'released', True: '1e3', '0x10': 'null' },
  };

  it('is served with its metadata as strings, everything else read back as written', () => {
    const served = servedManifest(written);
    expect(served.endsWith('---\n\n# Prices\n')).toBe(true);
    const frontmatter = /^---\n([\s\S]*?)\n---\n/.exec(served)?.[1];
    expect(parseYaml(frontmatter ?? '', { schema: 'failsafe' })).toEqual(expected);
  });

  it('is served as written when a value cannot be written back (a tagged set), so the catalog says why', () => {
    const tagged = written.replace('empty: []', 'empty: !!set { a, b }');
    expect(servedManifest(tagged)).toBe(tagged);
  });

  it('is read the same by the SDK\'s skills catalog', async () => {
    const folder = join(dir.path, 'prices');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'SKILL.md'), written);
    const catalog = await loadSkillCatalog([{ name: 'prices', folder, tools: [] }], (warning) => {
      throw new Error(warning.message);
    });
    const entries = (catalog?.extension as { entries?: readonly { frontmatter?: unknown }[] } | undefined)?.entries ?? [];
    // The SDK types scalars by YAML's core schema; every one is quoted here, so all stay strings.
    expect(entries.map((entry) => entry.frontmatter)).toEqual([expected]);
  });
});
