// Command skill folders served through the MCP skills extension, read with the SDK's
// SkillsClient (which verifies every file against the server's entry) over 2026-07-28 and
// 2025-era HTTP: the bundled example (its SKILL.md names its tools by their exposed names),
// a SKILL.md-only folder (a skill with no tools), a folder the config keeps private
// (serveSkill: false). Nothing outside a skill folder is served: `..`, symlinks out,
// hidden files.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/client';
import { SkillsClient } from '@modelcontextprotocol/client/ext/skills';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '../../helpers/temp-dir.js';
import { sandboxForTests } from '../../helpers/sandbox.js';
import { connectClient, serveConfig, type ConfiguredServer, type Era } from '../../helpers/toolport-process.js';

const example = fileURLToPath(new URL('../../../examples/command', import.meta.url));
const secret = 'notes-secret-value-7731';
let http: ConfiguredServer;
const outside = useTempDir('toolport-outside-', 'all');

beforeAll(async () => {
  await writeFile(join(outside.path, 'private.txt'), `${secret}\n`);
  http = await serveConfig(
    (dir) => [
      'policy: { unknownSideEffects: allow }',
      'plugins:',
      `  - path: ${example}`,
      ...(sandboxForTests.sandbox ? ['    sandbox: off'] : []),
      `  - path: ${join(dir, 'notes')}`,
      `  - path: ${join(dir, 'quiet')}`,
      '    serveSkill: false',
      ...(sandboxForTests.sandbox ? ['    sandbox: off'] : []),
    ],
    {
      async prepare(dir) {
        const notes = join(dir, 'notes');
        await mkdir(join(notes, 'reference'), { recursive: true });
        await writeFile(join(notes, 'SKILL.md'), '---\nname: notes\ndescription: How we write release notes.\n---\n\n# Notes\n\nRead reference/style.md first.\n');
        await writeFile(join(notes, 'reference', 'style.md'), '# Style\n\nShort sentences.\n');
        await writeFile(join(notes, '.env'), `TOKEN=${secret}\n`);
        await symlink(join(outside.path, 'private.txt'), join(notes, 'link.txt'));
        await symlink(outside.path, join(notes, 'elsewhere'));
        const quiet = join(dir, 'quiet');
        await mkdir(quiet);
        await writeFile(join(quiet, 'SKILL.md'), '---\nname: quiet\ndescription: Not served as a skill.\n---\n\n# Quiet\n');
        await writeFile(join(quiet, 'agent.toml'), '[tools.hello]\ncommand = "echo"\nargs = ["hi"]\ndescription = "Says hi."\n');
      },
    },
  );
}, 60_000);

afterAll(async () => {
  await http?.stop();
});

describe.each<Era>(['http-2026', 'http-2025'])('skills over %s', (era) => {
  let client: Client;
  let skills: SkillsClient;

  beforeAll(async () => {
    client = await connectClient(era, { url: http.url });
    skills = new SkillsClient(client);
  });

  afterAll(async () => {
    await client?.close();
  });

  it('skills/list shows each served skill folder, with its frontmatter', async () => {
    expect(skills.supported).toBe(true);
    expect(skills.directoryRead).toBe(true);
    const { skills: listed } = await skills.list();
    expect(listed.map((skill) => skill.uri).sort()).toEqual(['skill://notes/SKILL.md', 'skill://units/SKILL.md']);
    const units = listed.find((skill) => skill.uri === 'skill://units/SKILL.md')?.frontmatter;
    expect(units?.name).toBe('units');
    expect(units?.description).toContain('Converts temperatures');
    // EvoClaw's nested metadata is served as JSON text (the extension wants strings).
    expect(units?.metadata).toEqual({ evoclaw: '{"permissions":[]}' });
  });

  it('skills/get returns the SKILL.md, which names the tools as clients call them', async () => {
    const { skill } = await skills.get('skill://units/SKILL.md');
    const manifest = await skills.read(skill);
    expect(manifest.verified).toBe(true);
    expect(manifest.body).toContain('A small EvoClaw skill');
    expect(manifest.body).toContain('- `units__convert_temperature`: Convert a temperature to Celsius, Fahrenheit and Kelvin.');
    expect(manifest.body).toContain('- `units__count_words`');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['units__convert_temperature', 'units__count_words']));
  });

  it('a SKILL.md-only folder is a skill with no tools', async () => {
    const { skill } = await skills.get('skill://notes/SKILL.md');
    const manifest = await skills.read(skill);
    expect(manifest.body).toContain('Read reference/style.md first.');
    expect(manifest.body).not.toContain('## Tools');
    const style = await skills.read(skill, 'reference/style.md');
    expect(style.text).toBe('# Style\n\nShort sentences.\n');
    const { tools } = await client.listTools();
    expect(tools.some((tool) => tool.name.startsWith('notes__'))).toBe(false);
  });

  it('resources/directory/read lists the folder; hidden files and symlinks are not there', async () => {
    const root = await skills.readDirectory('skill://units');
    expect(root.resources.map((resource) => resource.uri).sort()).toEqual(
      ['skill://units/SKILL.md', 'skill://units/agent.toml', 'skill://units/scripts', 'skill://units/skill.toml'].sort(),
    );
    expect((await skills.readDirectory('skill://units/scripts')).resources.map((resource) => resource.uri)).toEqual(['skill://units/scripts/units.sh']);
    const notes = await skills.readDirectory('skill://notes');
    expect(notes.resources.map((resource) => resource.uri).sort()).toEqual(['skill://notes/SKILL.md', 'skill://notes/reference']);
    const script = await client.readResource({ uri: 'skill://units/scripts/units.sh' });
    expect(JSON.stringify(script.contents)).toContain('awk');
  });

  it('nothing outside a skill folder is served: .., symlinks, hidden files', async () => {
    for (const uri of [
      'skill://units/../../../../etc/passwd',
      'skill://notes/%2e%2e/%2e%2e/toolport.yaml',
      'skill://notes/link.txt',
      'skill://notes/elsewhere/private.txt',
      'skill://notes/.env',
      'skill://quiet/SKILL.md',
    ]) {
      const answer = await client.readResource({ uri }).then(
        (result) => JSON.stringify(result),
        (error: unknown) => `refused: ${String(error)}`,
      );
      expect(answer, uri).toMatch(/^refused: /);
      expect(answer, uri).not.toContain(secret);
    }
  });

  it('a folder with serveSkill: false is not a skill, and its tools are served', async () => {
    await expect(skills.get('skill://quiet/SKILL.md')).rejects.toThrow();
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('quiet__hello');
  });
});
