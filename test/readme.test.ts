// Every config and plugin block of README.md, loaded as the README says to use it: config
// blocks are parsed with their ${VAR}s set, checked against the JSON Schema and each
// plugin block against its kind's spec, and loaded for real where their files exist;
// plugin blocks (a module plugin, a hook module, a skill's agent.toml and SKILL.md) are
// written to files and served. A block marked `<!-- readme-test: partial: … -->` is
// deliberately not whole on its own; the library block runs in the package test.
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { toPluginSpec } from '../src/adapters/plugin-blocks.js';
import { parseConfig } from '../src/config/load.js';
import { configSchema } from '../src/config/schema.js';
import { isUrl } from '../src/core/format.js';
import type { PluginKind } from '../src/core/plugin.js';
import { createToolport } from '../src/toolport.js';
import { useTempDir } from './helpers/temp-dir.js';
import { validateConfigSchema } from './helpers/config-schema.js';
import { readmeBlocks, type ReadmeBlock } from './helpers/readme.js';
import { repoRoot } from './helpers/toolport-process.js';

const configKeys = new Set(Object.keys(configSchema.shape));

let blocks: ReadmeBlock[];
const dir = useTempDir('toolport-readme-', 'all');
beforeAll(async () => {
  blocks = await readmeBlocks();
});

const where = (block: ReadmeBlock): string => `README.md:${block.line} (${block.section})`;
const isFrontmatter = (block: ReadmeBlock): boolean => block.lang === 'yaml' && block.text.startsWith('# SKILL.md frontmatter');
const isConfig = (block: ReadmeBlock): boolean => block.lang === 'yaml' && !isFrontmatter(block);
const isHookModule = (block: ReadmeBlock): boolean => block.lang === 'js' && block.text.startsWith('// hooks/guard.mjs');
const isModulePlugin = (block: ReadmeBlock): boolean => block.lang === 'js' && /^export default \{\n\s+manifest:/.test(block.text);
const isLibrary = (block: ReadmeBlock): boolean => block.lang === 'ts' && block.text.includes("from 'toolport'");
const isClientConfig = (block: ReadmeBlock): boolean => block.lang === 'json' && block.text.includes('"mcpServers"');
const isAgentToml = (block: ReadmeBlock): boolean => block.lang === 'toml' && block.text.startsWith('# agent.toml');
/** Blocks that are commands or pictures, not configs or plugins. */
const isCommandOrText = (block: ReadmeBlock): boolean => block.lang === 'sh' || block.lang === '';

/** A value for every ${VAR} a block uses (long enough for the admin token's minimum). */
function envFor(text: string): Record<string, string> {
  const names = [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] ?? '');
  return Object.fromEntries(names.map((name): [string, string] => [name, `value-of-${name}-for-the-readme-test`]));
}

/** A config block as YAML; a failure names the block. */
function parseBlock(block: ReadmeBlock): Record<string, unknown> {
  try {
    return parseYaml(block.text) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${where(block)}: ${(error as Error).message}`);
  }
}

function kindOf(path: string): PluginKind | undefined {
  if (isUrl(path)) return 'http';
  return ({ '.wasm': 'wasm', '.py': 'python', '.json': 'http', '.mjs': 'module', '.js': 'module', '.ts': 'module' } as const)[extname(path)];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('README.md', () => {
  it('every fenced block is a config, a plugin, the library example, a client config, or a command', () => {
    const handled = [isConfig, isFrontmatter, isHookModule, isModulePlugin, isLibrary, isClientConfig, isAgentToml, isCommandOrText];
    const unhandled = blocks.filter((block) => !handled.some((test) => test(block))).map(where);
    expect(unhandled).toEqual([]);
    expect(blocks.filter(isConfig).length).toBeGreaterThanOrEqual(10);
  });

  it('every config block parses, fits the JSON Schema, and each plugin block fits its kind', () => {
    for (const block of blocks.filter(isConfig)) {
      const raw = parseBlock(block);
      expect({ block: where(block), unknownTopKeys: Object.keys(raw).filter((key) => !configKeys.has(key)) }).toEqual({ block: where(block), unknownTopKeys: [] });
      validateConfigSchema(raw);
      expect({ block: where(block), errors: validateConfigSchema.errors ?? [] }).toEqual({ block: where(block), errors: [] });
      const config = parseConfig(raw, { env: envFor(block.text), baseDir: repoRoot });
      for (const [index, entry] of config.plugins.entries()) {
        const kind = entry.kind ?? kindOf(entry.path);
        if (!kind) continue; // a folder: it fits some kind, or parseConfig would have said so
        expect({ block: where(block), issues: toPluginSpec({ ...entry, kind }, ['plugins', index]).issues }).toEqual({ block: where(block), issues: undefined });
      }
    }
  });

  it('a config block whose plugin files exist loads for real', async () => {
    let loaded = 0;
    for (const block of blocks.filter(isConfig)) {
      const config = parseConfig(parseBlock(block), { env: envFor(block.text), baseDir: repoRoot });
      const files = [...config.plugins.map((entry) => entry.path), ...config.hooks.map((entry) => entry.path)];
      if (config.plugins.length === 0 || !(await Promise.all(files.map(exists))).every(Boolean)) continue;
      const toolport = await createToolport(config, { baseDir: repoRoot, publishEvents: false });
      try {
        expect({ block: where(block), errors: toolport.diagnostics.filter((diagnostic) => diagnostic.level === 'error') }).toEqual({ block: where(block), errors: [] });
        expect(toolport.listTools().length).toBeGreaterThan(0);
        loaded += 1;
      } finally {
        await toolport.close();
      }
    }
    expect(loaded).toBeGreaterThanOrEqual(1);
  });

  it('the module plugin block loads as a plugin file', async () => {
    const [block] = blocks.filter(isModulePlugin);
    if (!block) throw new Error('no module plugin block');
    const file = join(dir.path, 'readme-plugin.mjs');
    await writeFile(file, block.text);
    const toolport = await createToolport(parseConfig({ plugins: [{ path: file }] }));
    try {
      expect(toolport.diagnostics).toEqual([]);
      const [tool] = toolport.listTools();
      expect(tool?.mcpTool).toMatchObject({ name: 'notebook__add_note', inputSchema: { required: ['text'] }, annotations: { readOnlyHint: false } });
    } finally {
      await toolport.close();
    }
  });

  it('the hooks config block loads with the hook module block as hooks/guard.mjs; its registered tool answers', async () => {
    const [module] = blocks.filter(isHookModule);
    const config = blocks.filter(isConfig).find((block) => block.text.startsWith('hooks:'));
    if (!module || !config) throw new Error('no hook module block, or no hooks config block');
    const folder = join(dir.path, 'hooks-example');
    await mkdir(join(folder, 'hooks'), { recursive: true });
    await writeFile(join(folder, 'hooks', 'guard.mjs'), module.text);
    // The config block names a second module, whose code the README does not show.
    await writeFile(join(folder, 'hooks', 'audit.js'), 'export default function register() {}\n');
    const toolport = await createToolport(parseConfig(parseBlock(config), { baseDir: folder }), { baseDir: folder });
    try {
      expect(toolport.listTools().map((tool) => tool.name)).toEqual(['guard__check_price']);
      expect(await toolport.call('guard__check_price', { symbol: 'BTC' })).toMatchObject({ content: [{ type: 'text', text: 'BTC: 42.00' }] });
    } finally {
      await toolport.close();
    }
  });

  it('the agent.toml and SKILL.md blocks make a skill that loads and runs', async () => {
    const [agent] = blocks.filter(isAgentToml);
    const [frontmatter] = blocks.filter(isFrontmatter);
    if (!agent || !frontmatter) throw new Error('no agent.toml or SKILL.md block');
    for (const block of [agent, frontmatter]) expect({ block: where(block), partial: block.partial }).toEqual({ block: where(block), partial: expect.any(String) as string });
    expect(parseToml(agent.text)).toHaveProperty('tools.check_price');
    const skill = join(dir.path, 'price-check');
    await mkdir(join(skill, 'scripts'), { recursive: true });
    await writeFile(join(skill, 'agent.toml'), agent.text);
    await writeFile(join(skill, 'SKILL.md'), `---\n${frontmatter.text}---\n\n# price check\n`);
    await writeFile(join(skill, 'scripts', 'run.sh'), '#!/bin/sh\necho "price for $*"\n');
    await chmod(join(skill, 'scripts', 'run.sh'), 0o755);
    // What the skill declares (internet, PRICES_HOME) is granted, as the README says it must be.
    // A skill cannot say that a tool only reads; the config does, so the call runs without asking.
    const toolport = await createToolport(parseConfig({ plugins: [{ path: skill, grants: { network: true, env: ['PRICES_HOME'] }, readOnly: ['check_price'] }] }));
    try {
      expect(toolport.diagnostics.filter((diagnostic) => diagnostic.level === 'error')).toEqual([]);
      expect(toolport.listTools()[0]?.mcpTool).toMatchObject({ name: 'price-check__check_price', inputSchema: { required: ['SYMBOL'] } });
      expect(await toolport.call('price-check__check_price', { SYMBOL: 'BTC' })).toMatchObject({ content: [{ type: 'text', text: 'price for --pair BTC\n' }] });
    } finally {
      await toolport.close();
    }
  });

  it('client config blocks are JSON of the shape clients read; the library block is there for the package test', () => {
    for (const block of blocks.filter(isClientConfig)) {
      const server = (JSON.parse(block.text) as { mcpServers: { toolport: Record<string, unknown> } }).mcpServers.toolport;
      expect(server.url ?? server.command).toEqual(expect.any(String));
    }
    expect(blocks.filter(isLibrary)).toHaveLength(1);
  });
});
