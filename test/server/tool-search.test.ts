// Tool search over a generated catalog of 1,000 tools in 20 plugins: 100 queries written in
// other words than the descriptions find their tool (top-3 ≥ 96 %, top-1 ≥ 82 %); through
// real SDK clients of both eras, tools/list in search mode shows search_tools (described
// from the catalog) and the always-visible tools, every tool stays callable by name, and a
// principal never finds a tool its scope or the policy keeps from it; `limit` takes 1 to 50;
// a question that names no operation ranks read-only tools first among equal matches.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildCatalogIndex } from '../../src/server/tool-search.js';
import { createToolport, type Toolport } from '../../src/toolport.js';
import { domains, queries, requests } from '../fixtures/search/catalog-data.mjs';
import { useTempDir } from '../helpers/temp-dir.js';
import { connectClient, serveConfig, type ConfiguredServer, type Era } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';

const catalogPlugin = fileURLToPath(new URL('../fixtures/search/catalog-plugin.mjs', import.meta.url));
const pluginBlocks = Object.keys(domains).map((domain) => ({ path: catalogPlugin, id: domain, settings: { domain } }));

describe('search quality over the generated catalog', () => {
  let toolport: Toolport;
  const stateDir = useTempDir('toolport-search-', 'all');
  beforeAll(async () => {
    toolport = await createToolport(parseConfig({ plugins: pluginBlocks, policy: { unknownSideEffects: 'allow' } }), { stateDir: stateDir.path });
  });
  afterAll(async () => {
    await toolport?.close();
  });

  it('1,000 tools in 20 plugins; 100 paraphrased queries: top-3 recall ≥ 96 %, top-1 ≥ 82 % (the README\'s figures)', () => {
    expect(toolport.registry.tools).toHaveLength(1000);
    expect(new Set(toolport.registry.tools.map((tool) => tool.plugin.id)).size).toBe(20);
    expect(queries).toHaveLength(100);
    const index = buildCatalogIndex(toolport.registry.tools);
    let top1 = 0;
    let top3 = 0;
    const misses: string[] = [];
    for (const [query, expected] of queries) {
      expect(toolport.registry.get(expected), `${expected} exists`).toBeDefined();
      const found = index.search(query, 3, () => true).map((tool) => tool.name);
      if (found[0] === expected) top1 += 1;
      if (found.includes(expected)) top3 += 1;
      else misses.push(`${query} → ${found.join(', ')} (wanted ${expected})`);
    }
    // The free-form requests (often without the operation) are reported, not held to a bar.
    const requestHits = requests.filter(([query, expected]) => index.search(query, 3, () => true).some((tool) => tool.name === expected)).length;
    console.log(`tool search: top-1 ${top1}/100, top-3 ${top3}/100; free-form requests top-3 ${requestHits}/${requests.length}; misses:\n  ${misses.join('\n  ')}`);
    // The search is deterministic: these are the figures the README states.
    expect(top3).toBeGreaterThanOrEqual(96);
    expect(top1).toBeGreaterThanOrEqual(82);
  });

  it('the search tool description names the plugins behind it and what their tools are about', () => {
    const index = buildCatalogIndex(toolport.registry.tools);
    const description = index.describe(toolport.registry.tools, 0);
    for (const domain of Object.keys(domains)) expect(description).toContain(`- ${domain} (50 tools): ${domain} tools (generated for the search tests); tools about `);
    expect(description).toMatch(/- shipping \(50 tools\): .*tools about .*label/);
  });
});

describe('search mode through real SDK clients', () => {
  let http: ConfiguredServer;
  const tokens = { full: 'full-token-0123456789', travel: 'travel-token-0123456789', intern: 'intern-token-0123456789' };
  const clients: Client[] = [];
  const connect = async (era: Era, token: string): Promise<Client> => {
    const client = await connectClient(era, { url: http.url, headers: { authorization: `Bearer ${token}` } });
    clients.push(client);
    return client;
  };
  const search = async (client: Client, query: string, limit?: number): Promise<string[]> => {
    const result = await client.callTool({ name: 'search_tools', arguments: { query, ...(limit !== undefined && { limit }) } });
    expect(result.isError, textOf(result)).toBeFalsy();
    const { tools } = result.structuredContent as { tools: { name: string; description: string; inputSchema: unknown }[] };
    for (const tool of tools) expect(tool.inputSchema).toMatchObject({ type: 'object' });
    return tools.map((tool) => tool.name);
  };

  beforeAll(async () => {
    http = await serveConfig([
      'server:',
      '  http:',
      '    auth:',
      '      tokens:',
      `        - { token: ${tokens.full}, principal: ops }`,
      `        - { token: ${tokens.travel}, principal: travel, tools: ["weather__*", "maps__get_*"] }`,
      `        - { token: ${tokens.intern}, principal: intern }`,
      'policy:',
      '  unknownSideEffects: allow',
      '  sideEffects: allow',
      '  rules:',
      '    - { principal: intern, plugin: finance, action: deny }',
      'discovery: { mode: auto, autoAbove: 100, alwaysVisible: ["weather__get_forecast", "maps__get_route"] }',
      'plugins:',
      ...pluginBlocks.flatMap((block) => [`  - path: ${block.path}`, `    id: ${block.id}`, `    settings: { domain: ${block.settings.domain} }`]),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(clients.map((client) => client.close()));
    await http?.stop();
  });

  it.each(['http-2025', 'http-2026'] as const)('over %s: search_tools and the always-visible tools are listed; found tools are called by name', async (era) => {
    const client = await connect(era, tokens.full);
    const listed = await client.listTools();
    expect(listed.tools.map((tool) => tool.name)).toEqual(['search_tools', 'maps__get_route', 'weather__get_forecast']);
    expect(listed.nextCursor).toBeUndefined();
    const searchTool = listed.tools[0];
    expect(searchTool?.description).toContain('1000 tools are available to you, and only 2 of them are listed');
    expect(searchTool?.description).toContain('- payments (50 tools)');
    if (era === 'http-2026') expect((listed as { cacheScope?: unknown }).cacheScope).toBe('private');

    const found = await search(client, 'give a customer their money back');
    expect(found).toContain('payments__create_refund');
    expect(found).toHaveLength(5);
    expect(await search(client, 'change the brightness of a light', 1)).toEqual(['smarthome__update_light']);
    // Not listed, still callable by its name.
    const ran = await client.callTool({ name: 'payments__create_refund', arguments: { name: 'order 17' } });
    expect(textOf(ran)).toBe('{"ran":"payments__create_refund","args":{"name":"order 17"}}');

    const bad = await client.callTool({ name: 'search_tools', arguments: { query: '' } });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toContain('"query" must be a non-empty string');
  });

  it.each(['http-2025', 'http-2026'] as const)('over %s: a principal whose scope excludes a plugin never finds its tools', async (era) => {
    const client = await connect(era, tokens.travel);
    // 60 tools are in scope: under autoAbove, so they are listed in full.
    const listed = (await client.listTools()).tools.map((tool) => tool.name);
    expect(listed).toHaveLength(60);
    expect(listed.every((name) => name.startsWith('weather__') || name.startsWith('maps__get_'))).toBe(true);
    for (const [query] of queries) {
      for (const name of await search(client, query, 10)) expect(name.startsWith('weather__') || name.startsWith('maps__get_'), `${query} → ${name}`).toBe(true);
    }
    expect(await search(client, 'give a customer their money back')).not.toContain('payments__create_refund');
    expect(await search(client, 'directions to the airport by car', 1)).toEqual(['maps__get_route']);
    // And it cannot call what it cannot find.
    await expect(client.callTool({ name: 'payments__create_refund', arguments: { name: 'x' } })).rejects.toThrow(/Unknown tool/);
  }, 60_000);

  it('limit takes 1 to 50 (50 returns 50 tools); 0, 51, a fraction or a string is an isError result saying so', async () => {
    const client = await connect('http-2026', tokens.full);
    // A query many tools match, so the limit is what stops the list.
    expect(await search(client, 'get list create update delete', 50)).toHaveLength(50);
    expect(await search(client, 'order', 1)).toHaveLength(1);
    for (const limit of [0, 51, 2.5, '5']) {
      const refused = await client.callTool({ name: 'search_tools', arguments: { query: 'order', limit } });
      expect(refused.isError, `limit ${JSON.stringify(limit)}`).toBe(true);
      expect(textOf(refused)).toBe('search_tools: "limit" must be a whole number from 1 to 50');
    }
  });

  it('a principal the policy denies a plugin finds none of its tools, and the description leaves the plugin out', async () => {
    const client = await connect('http-2026', tokens.intern);
    const searchTool = (await client.listTools()).tools[0];
    expect(searchTool?.name).toBe('search_tools');
    expect(searchTool?.description).toContain('950 tools are available to you');
    expect(searchTool?.description).not.toContain('finance');
    const found = await search(client, 'how much money is in my bank account', 20);
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((name) => name.startsWith('finance__'))).toEqual([]);
    const full = await connect('http-2026', tokens.full);
    expect(await search(full, 'how much money is in my bank account', 10)).toContain('finance__get_account_balance');
  });
});

describe('ranking of read-only tools', () => {
  // Two plugins with the same tool (same name, description, schema); only one says it reads.
  // The one with side effects comes first in the config, so equal scores alone would rank it first.
  let server: ConfiguredServer;
  beforeAll(async () => {
    server = await serveConfig(
      (dir) => [
        'policy: { sideEffects: allow }',
        'discovery: { mode: search }',
        'plugins:',
        `  - { path: ${join(dir, 'lots.mjs')}, id: depot, settings: { readOnly: false } }`,
        `  - { path: ${join(dir, 'lots.mjs')}, id: ledger, settings: { readOnly: true } }`,
      ],
      {
        prepare: (dir) =>
          writeFile(
            join(dir, 'lots.mjs'),
            [
              'export default (host) => ({',
              '  manifest: { tools: [{ name: "expiring_lots", description: "Stock lots and their expiry dates.", parameters: { type: "object", properties: {} },',
              '    ...(host.settings.readOnly ? { annotations: { readOnlyHint: true } } : { sideEffects: true }) }] },',
              '  executeTool: () => "ok",',
              '});',
            ].join('\n'),
          ),
      },
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a question that names no operation ranks the read-only tool first among equal matches', async () => {
    const client = await connectClient('http-2026', { url: server.url });
    try {
      const found = async (query: string): Promise<string[]> => {
        const result = await client.callTool({ name: 'search_tools', arguments: { query } });
        return (result.structuredContent as { tools: { name: string }[] }).tools.map((tool) => tool.name);
      };
      expect(await found('which lots expire soon?')).toEqual(['ledger__expiring_lots', 'depot__expiring_lots']);
      expect(await found('what stock lots have an expiry date')).toEqual(['ledger__expiring_lots', 'depot__expiring_lots']);
      // Both are found either way; the order is the question's doing.
      expect((await found('expiring lots')).sort()).toEqual(['depot__expiring_lots', 'ledger__expiring_lots']);
    } finally {
      await client.close();
    }
  });
});

describe('list mode (the default)', () => {
  it('lists every tool and has no search_tools', async () => {
    const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
    const server = await serveConfig(['plugins:', `  - path: ${fixture}`]);
    try {
      const client = await connectClient('http-2026', { url: server.url });
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toEqual(['e2e__fail', 'e2e__grow', 'e2e__slow', 'e2e__weather']);
      await expect(client.callTool({ name: 'search_tools', arguments: { query: 'weather' } })).rejects.toThrow(/Unknown tool/);
      await client.close();
    } finally {
      await server.stop();
    }
  });
});
