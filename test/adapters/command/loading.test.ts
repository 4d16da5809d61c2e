// Loading EvoClaw skill folders: SKILL.md frontmatter, agent.toml tools, skill.toml types,
// and clear problems that name the file and key without stopping the other skills.
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCode, isToolportError } from '../../../src/core/errors.js';
import { createToolport, type Toolport } from '../../../src/toolport.js';
import { makeScratch, sandboxForTests, textOf, writeSkill } from './helpers.js';

const echoScript = '#!/bin/sh\nprintf "%s\\n" "$@"\n';

let root: string;
const open: Toolport[] = [];

async function load(plugins: Array<Record<string, unknown>>): Promise<Toolport> {
  const toolport = await createToolport(parseConfig({ plugins: plugins.map((plugin) => ({ ...sandboxForTests, readOnly: ['*'], ...plugin })) }));
  open.push(toolport);
  return toolport;
}

function messages(toolport: Toolport, level: 'error' | 'warning' | 'info'): string[] {
  return toolport.diagnostics.filter((d) => d.level === level).map((d) => d.message);
}

beforeAll(async () => {
  root = await makeScratch('loading');
});

afterAll(async () => {
  await Promise.all(open.map((toolport) => toolport.close()));
  await rm(root, { recursive: true, force: true });
});

describe('command skills: loading', () => {
  it('turns agent.toml tools into tools named after the skill, with placeholder properties kept exactly', async () => {
    const dir = await writeSkill(root, 'prices', {
      skillMd:
        '---\nname: price-check\nversion: 1.10\ndescription: Crypto prices\nauthor: someone\nlicense: MIT\nmetadata:\n  evoclaw:\n    permissions: ["internet"]\n    env: [PRICES_KEY]\n---\n# Price check\n',
      agentToml: [
        '[tools.check_price]',
        'command = "scripts/run.sh"',
        'description = "Check the price of a pair"',
        'args = ["--pair", "$SYMBOL", "$Symbol"]',
        'timeout_secs = 12',
      ].join('\n'),
      files: { 'scripts/run.sh': echoScript },
    });
    const toolport = await load([{ path: dir, grants: { network: true, env: ['PRICES_KEY'] } }]);
    expect(messages(toolport, 'error')).toEqual([]);
    const [tool] = toolport.listTools();
    expect(tool?.name).toBe('price-check__check_price');
    expect(tool?.definition.description).toBe('Check the price of a pair');
    expect(tool?.plugin.plugin.version).toBe('1.10'); // YAML scalars stay text
    expect(tool?.mcpTool.inputSchema).toEqual({
      type: 'object',
      properties: {
        SYMBOL: { type: 'string', description: 'Argument 2 of run.sh.' },
        Symbol: { type: 'string', description: 'Argument 3 of run.sh.' },
      },
      required: ['SYMBOL', 'Symbol'],
      additionalProperties: false,
    });
    // Declared permissions and how the tool runs are visible to clients and the policy layer.
    // SKILL.md's env names are `env:NAME` permissions, which the policy layer checks against grants.env.
    expect(tool?.mcpTool._meta?.['toolport/origin']).toMatchObject({ permissions: ['internet', 'env:PRICES_KEY'] });
    expect(tool?.mcpTool._meta?.['toolport/command']).toEqual({ network: 'allowed', timeoutSeconds: 12 });
  });

  it('variables named in metadata.evoclaw.env are permissions: calls are refused until grants.env gives them', async () => {
    const dir = await writeSkill(root, 'needs-env', {
      skillMd: '---\nname: needs-env\nmetadata:\n  evoclaw:\n    env: [NEEDS_ENV_TOKEN]\n---\n',
      agentToml: '[tools.show]\ncommand = "env"\n',
    });
    process.env.NEEDS_ENV_TOKEN = 'token-value';
    try {
      const refused = await load([{ path: dir }]);
      const error = await refused.call('needs-env__show', {}).catch((reason: unknown) => reason);
      expect(isToolportError(error) && error.code).toBe(ErrorCode.CallDenied);
      expect(isToolportError(error) && error.shortMessage).toContain('plugins[0].grants.env: [NEEDS_ENV_TOKEN]');
      const granted = await load([{ path: dir, grants: { env: ['NEEDS_ENV_TOKEN'] } }]);
      const outcome = await granted.call('needs-env__show', {});
      expect(textOf(outcome)).toContain('NEEDS_ENV_TOKEN=token-value\n');
    } finally {
      delete process.env.NEEDS_ENV_TOKEN;
    }
  });

  it('uses skill.toml [[tools]] parameter types, descriptions, defaults and required list', async () => {
    const dir = await writeSkill(root, 'typed', {
      agentToml: '[tools.convert]\ncommand = "scripts/run.sh"\nargs = ["$amount", "$unit"]\n',
      skillToml: [
        'name = "typed"',
        '[[tools]]',
        'name = "convert"',
        'description = "Convert an amount between units."',
        '[tools.parameters]',
        'required = ["amount"]',
        '[tools.parameters.properties.amount]',
        'type = "number"',
        'description = "How much"',
        '[tools.parameters.properties.unit]',
        'type = "string"',
        'description = "Target unit"',
        'default = "km"',
        'enum = ["km", "mi"]',
        '[tools.parameters.properties.precise]',
        'type = "boolean"',
        'description = "Only seen as SKILL_ARG_PRECISE"',
      ].join('\n'),
      files: { 'scripts/run.sh': echoScript },
    });
    const toolport = await load([{ path: dir }]);
    const [tool] = toolport.listTools();
    expect(tool?.definition.description).toBe('Convert an amount between units.');
    expect(tool?.mcpTool.inputSchema).toEqual({
      type: 'object',
      properties: {
        amount: { type: 'number', description: 'How much' },
        unit: { type: 'string', description: 'Target unit', default: 'km', enum: ['km', 'mi'] },
        precise: { type: 'boolean', description: 'Only seen as SKILL_ARG_PRECISE' },
      },
      required: ['amount'],
      additionalProperties: false,
    });
  });

  it('accepts the folder, its SKILL.md or its agent.toml as the path', async () => {
    const dir = await writeSkill(root, 'by-file', {
      agentToml: '[tools.hello]\ncommand = "scripts/run.sh"\n',
      files: { 'scripts/run.sh': echoScript },
    });
    for (const path of [dir, join(dir, 'SKILL.md'), join(dir, 'agent.toml')]) {
      const toolport = await load([{ path, kind: 'command' }]);
      expect(toolport.listTools().map((tool) => tool.name)).toEqual(['by-file__hello']);
    }
  });

  it('names the file and key of each problem; a bad tool is skipped, the good ones stay', async () => {
    const dir = await writeSkill(root, 'mixed', {
      agentToml: [
        'extra = 1',
        '[tools.good]',
        'command = "scripts/run.sh"',
        'args = ["--x=$X", "$Y"]',
        '[tools.typo]',
        'command = "scripts/run.sh"',
        'timeout = 5',
        '[tools.comand_typo]',
        'comand = "scripts/run.sh"',
        '[tools.missing]',
        'command = "scripts/nope.sh"',
        '[tools.on_path_missing]',
        'command = "definitely-not-a-program-xyz"',
        '[tools.with_space]',
        'command = "python3 run.py"',
        '[tools.not_executable]',
        'command = "scripts/plain.txt"',
        '[tools.escape]',
        'command = "../outside.sh"',
        '[tools.bad_placeholder]',
        'command = "scripts/run.sh"',
        'args = ["${NAME}"]',
        '[tools.bad_args]',
        'command = "scripts/run.sh"',
        'args = "$X"',
        '[tools.bad_env]',
        'command = "scripts/run.sh"',
        'env = ["NOEQUALS"]',
      ].join('\n'),
      files: { 'scripts/run.sh': echoScript, 'scripts/plain.txt': 'not a program' },
    });
    await writeFile(join(root, 'outside.sh'), echoScript, { mode: 0o755 });
    const toolport = await load([{ path: dir }]);
    expect(toolport.listTools().map((tool) => tool.name)).toEqual(['mixed__bad_env', 'mixed__good']);
    const errors = messages(toolport, 'error').join('\n');
    expect(errors).toContain('agent.toml: tools.typo: unknown key "timeout" (did you mean "timeout_secs"?)');
    expect(errors).toContain('agent.toml: tools.comand_typo: unknown key "comand" (did you mean "command"?)');
    expect(errors).toMatch(/agent\.toml: tools\.missing\.command: "scripts\/nope\.sh" does not exist/);
    expect(errors).toContain('tools.on_path_missing.command: "definitely-not-a-program-xyz" was not found on PATH');
    expect(errors).toContain('put its arguments in `args`');
    expect(errors).toMatch(/tools\.not_executable\.command: "scripts\/plain\.txt" is not executable/);
    expect(errors).toContain('tools.escape.command: "../outside.sh" points outside the skill folder');
    expect(errors).toContain('tools.bad_placeholder.args[0]: "${NAME}" is not a placeholder');
    expect(errors).toContain('write "$NAME"');
    expect(errors).toContain('agent.toml: tools.bad_args.args: must be a list of strings');
    for (const message of messages(toolport, 'error')) expect(message).toContain(dir);
    const warnings = messages(toolport, 'warning').join('\n');
    expect(warnings).toContain('agent.toml: "extra" is ignored');
    expect(warnings).toContain('tools.good.args[0]: "--x=$X" is passed literally');
    expect(warnings).toContain('tools.bad_env.env[0]: "NOEQUALS" is not KEY=value');
  });

  it('refuses a command that reaches outside the skill folder through a symlink', async () => {
    const dir = await writeSkill(root, 'linked', {
      agentToml: '[tools.run]\ncommand = "bin/link.sh"\n[tools.bare]\ncommand = "local.sh"\n',
      files: { 'local.sh': echoScript },
    });
    await mkdir(join(dir, 'bin'));
    await writeFile(join(root, 'outside.sh'), echoScript, { mode: 0o755 });
    await symlink(join(root, 'outside.sh'), join(dir, 'bin', 'link.sh'));
    const toolport = await load([{ path: dir }]);
    expect(toolport.listTools()).toEqual([]);
    const errors = messages(toolport, 'error').join('\n');
    expect(errors).toContain('"bin/link.sh" points outside the skill folder');
    // A bare name is looked up on PATH, as in EvoClaw, not in the skill folder.
    expect(errors).toContain('"local.sh" was not found on PATH; the skill folder has local.sh: write "./local.sh" to run it');
  });

  it('fails a skill with a clear message for missing files, frontmatter, TOML errors and unknown keys', async () => {
    const cases: Array<[string, Parameters<typeof writeSkill>[2] | 'no-skill-md', RegExp]> = [
      ['no-frontmatter', { skillMd: '# Just markdown\n', agentToml: '[tools.a]\ncommand = "true"\n' }, /SKILL\.md: no frontmatter/],
      ['bad-yaml', { skillMd: '---\nname: [unclosed\n---\n', agentToml: '[tools.a]\ncommand = "true"\n' }, /SKILL\.md: the frontmatter is not valid YAML/],
      [
        'bad-evoclaw',
        { skillMd: '---\nname: x\nmetadata:\n  evoclaw:\n    permisions: [internet]\n---\n', agentToml: '[tools.a]\ncommand = "true"\n' },
        /SKILL\.md: invalid frontmatter:\n\s+metadata\.evoclaw: unknown key "permisions"/,
      ],
      [
        'bad-permissions',
        { skillMd: '---\nname: x\nmetadata:\n  evoclaw:\n    permissions: {internet: yes}\n---\n', agentToml: '[tools.a]\ncommand = "true"\n' },
        /metadata\.evoclaw\.permissions: must be a list of strings/,
      ],
      ['bad-toml', { agentToml: '[tools.a]\ncommand = true false\n' }, /agent\.toml: line 2, column \d+: /],
      ['no-tools', { agentToml: '# nothing\n' }, /agent\.toml: no \[tools\.NAME\] tables/],
      ['all-broken', { agentToml: '[tools.a]\ncommand = "nope-xyz-1"\n[tools.b]\ncommand = "nope-xyz-2"\n' }, /no usable tools:\n.*tools\.a\.command.*\n.*tools\.b\.command/],
      ['no-skill-md', 'no-skill-md', /SKILL\.md: not found/],
    ];
    for (const [name, files, expected] of cases) {
      let dir: string;
      if (files === 'no-skill-md') {
        dir = await writeSkill(root, name, { agentToml: '[tools.a]\ncommand = "true"\n' });
        await rm(join(dir, 'SKILL.md'));
      } else {
        dir = await writeSkill(root, name, files);
      }
      const toolport = await load([{ path: dir }]);
      expect(toolport.listTools(), name).toEqual([]);
      const errors = messages(toolport, 'error');
      expect(errors, name).toHaveLength(1);
      expect(errors[0], name).toMatch(expected);
      expect(errors[0], name).toContain(dir);
    }
  });

  it('warns about unknown frontmatter keys and a broken skill.toml, and still loads', async () => {
    const dir = await writeSkill(root, 'lenient', {
      skillMd: '---\nname: lenient\nhomepage: https://example.org\n---\n',
      agentToml: '[tools.a]\ncommand = "scripts/run.sh"\nargs = ["$v"]\n',
      skillToml: '[[tools]\nname = "a"\n',
      files: { 'scripts/run.sh': echoScript },
    });
    const toolport = await load([{ path: dir }]);
    expect(toolport.listTools().map((tool) => tool.name)).toEqual(['lenient__a']);
    const warnings = messages(toolport, 'warning').join('\n');
    expect(warnings).toContain('SKILL.md: unknown frontmatter key "homepage" is ignored');
    expect(warnings).toMatch(/skill\.toml: line 1, column \d+: .*; its parameter types and descriptions are not used/);
  });

  it('a folder of skills loads each; one bad skill does not stop the others', async () => {
    const folder = join(root, 'many');
    await writeSkill(folder, 'alpha', { agentToml: '[tools.one]\ncommand = "scripts/run.sh"\n', files: { 'scripts/run.sh': echoScript } });
    await writeSkill(folder, 'broken', { skillMd: 'no frontmatter', agentToml: '[tools.one]\ncommand = "true"\n' });
    await writeSkill(folder, 'gamma', { agentToml: '[tools.one]\ncommand = "scripts/run.sh"\n', files: { 'scripts/run.sh': echoScript } });
    const toolport = await load([{ path: folder }]);
    expect(toolport.listTools().map((tool) => tool.name)).toEqual(['alpha__one', 'gamma__one']);
    expect(messages(toolport, 'error')).toEqual([expect.stringMatching(/many\/broken: SKILL\.md: no frontmatter/)]);
    const result = await toolport.call('gamma__one', {});
    expect(result.isError).toBeUndefined();
  });

  it('unknown keys in the plugin config block are a config error', async () => {
    const dir = await writeSkill(root, 'config-keys', { agentToml: '[tools.a]\ncommand = "true"\n' });
    await expect(load([{ path: dir, maxOutput: 5 }])).rejects.toThrow(/plugins\[0\]: unknown key "maxOutput" \(did you mean "maxOutputBytes"\?\)/);
    // A key of another kind is found once the folder is known to be a skill.
    await expect(load([{ path: dir, memoryLimitMb: 5 }])).rejects.toThrow(/plugins\[0\]: "memoryLimitMb" is a key of wasm plugins, and this is a command plugin/);
  });

  it('says what `sandbox` may be', async () => {
    const dir = await writeSkill(root, 'sandbox-key', { agentToml: '[tools.a]\ncommand = "true"\n' });
    // A config error (exit 2 from the CLI), before anything loads.
    await expect(load([{ path: dir, sandbox: 'maybe' }])).rejects.toThrow(
      'plugins[0].sandbox: must be "off" (run this plugin without the sandbox) or "on" (the default)',
    );
  });
});
