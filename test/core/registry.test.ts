// The registry over real loaded-plugin objects: prefix modes, deterministic order,
// schema problems disabling one tool, and change notifications.
import { describe, expect, it } from 'vitest';
import type { LoadedPlugin } from '../../src/core/plugin.js';
import { createSilentLogger } from '../../src/core/logger.js';
import { createRegistry, type RegisteredPlugin } from '../../src/core/registry.js';
import { createSchemaCompiler } from '../../src/core/schema.js';
import type { ToolDefinition } from '../../src/core/tool.js';

function plugin(id: string, tools: ToolDefinition[]): RegisteredPlugin {
  const loaded: LoadedPlugin = {
    id,
    kind: 'module',
    tools,
    call: () => Promise.resolve({ content: [] }),
    close: () => Promise.resolve(),
  };
  return { id, plugin: loaded, timeoutSeconds: 1, source: `${id}.mjs`, grants: { env: [], files: {}, network: false, permissions: [] }, configPath: 'plugins[0]' };
}

const object = { type: 'object', properties: {} };
const tool = (name: string, extra: Partial<ToolDefinition> = {}): ToolDefinition => ({ name, inputSchema: object, ...extra });

function registryWith(prefix: 'always' | 'conditional' | 'never', plugins: RegisteredPlugin[]) {
  const registry = createRegistry({ naming: { prefix, maxLength: 64 }, compiler: createSchemaCompiler(), logger: createSilentLogger() });
  registry.setPlugins(plugins);
  return registry;
}

describe('registry', () => {
  const plugins = [plugin('zeta', [tool('search'), tool('zap')]), plugin('alpha', [tool('search'), tool('add')])];

  it('always: every tool prefixed, sorted by exposed name', () => {
    expect(registryWith('always', plugins).tools.map((t) => t.name)).toEqual(['alpha__add', 'alpha__search', 'zeta__search', 'zeta__zap']);
  });

  it('conditional: bare names unless two plugins share one', () => {
    expect(registryWith('conditional', plugins).tools.map((t) => t.name)).toEqual(['add', 'alpha__search', 'zap', 'zeta__search']);
  });

  it('never: bare names; the later duplicate is disabled and reported', () => {
    const registry = registryWith('never', plugins);
    expect(registry.tools.map((t) => t.name)).toEqual(['add', 'search', 'zap']);
    expect(registry.get('search')?.plugin.id).toBe('zeta');
    expect(registry.diagnostics).toHaveLength(1);
    expect(registry.diagnostics[0]?.message).toMatch(/collision on "search".*plugin "alpha"/);
  });

  it('disables only a tool whose schema is broken, and says why', () => {
    const registry = registryWith('always', [
      plugin('p', [tool('good'), tool('bad', { inputSchema: { type: 'object', properties: { n: { type: 'nonsense' } } } }), tool('array', { inputSchema: { type: 'array' } })]),
    ]);
    expect(registry.tools.map((t) => t.name)).toEqual(['p__good']);
    expect(registry.diagnostics.map((d) => d.message).join('\n')).toMatch(/tool "bad" .*not valid JSON Schema/);
    expect(registry.diagnostics.map((d) => d.message).join('\n')).toMatch(/tool "array" .*type "array", expected "object"/);
  });

  it('fills in type: object when a schema leaves it out', () => {
    const registry = registryWith('always', [plugin('p', [tool('loose', { inputSchema: { properties: { a: { type: 'string' } } } })])]);
    expect(registry.get('p__loose')?.mcpTool.inputSchema).toEqual({ type: 'object', properties: { a: { type: 'string' } } });
  });

  it('tells listeners when the visible list changes, not otherwise', () => {
    const tools = [tool('one')];
    const registry = registryWith('always', [plugin('p', tools)]);
    let changes = 0;
    registry.onChange(() => (changes += 1));
    registry.refresh();
    expect(changes).toBe(0);
    tools.push(tool('two'));
    registry.refresh();
    expect(changes).toBe(1);
    expect(registry.get('p__two')).toBeDefined();
  });
});
