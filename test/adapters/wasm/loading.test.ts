// Loading a component: the transpile cache (a warm start lists tools without transpiling),
// what is read from the component and from the WIT beside it (names, package, docs),
// what is skipped with a warning, and the errors for what cannot be served: unknown
// imports named, a core module or a broken file named, and never at the others' expense.
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDummyComponent, buildWatFixture, jsFixtures, sourcesHashOf, stampPathOf } from '../../fixtures/wasm/build.js';
import { connectClient, startHttpServer } from '../../helpers/toolport-process.js';
import { kitchenWasm, sharedCacheDir, startToolport, textOf, writeConfig, type LogRecord } from './helpers.js';
import { parseConfig } from '../../../src/config/load.js';
import { createToolport } from '../../../src/toolport.js';

const scratch: string[] = [];
async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'toolport-wasm-load-'));
  scratch.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

function loadRecord(records: LogRecord[]): LogRecord | undefined {
  return records.find((record) => record.msg === 'wasm component loaded');
}

describe('wasm loading: the transpile cache', () => {
  it('a second start lists the same tools from the cache, without transpiling', async () => {
    const cacheDir = await scratchDir();
    const first = await startToolport([{ path: kitchenWasm, cacheDir }]);
    const cold = loadRecord(first.log.records);
    const tools = first.toolport.listTools().map((tool) => tool.mcpTool);
    await first.close();
    expect(cold).toMatchObject({ cache: 'miss' });
    const entry = String(cold?.dir);
    const transpiled = join(entry, 'component.js');
    const writtenAt = (await stat(transpiled)).mtimeMs;

    const second = await startToolport([{ path: kitchenWasm, cacheDir }]);
    const warm = loadRecord(second.log.records);
    expect(second.toolport.listTools().map((tool) => tool.mcpTool)).toEqual(tools);
    await second.close();
    expect(warm).toMatchObject({ cache: 'hit', dir: entry });
    expect((await stat(transpiled)).mtimeMs).toBe(writtenAt);
    // Measured: the warm load skips componentWit, printing the types and transpiling.
    expect(Number(warm?.ms)).toBeLessThan(Number(cold?.ms) / 4);
    process.stderr.write(`kitchen.wasm (13 MB) load: cold ${String(cold?.ms)} ms, warm ${String(warm?.ms)} ms\n`);
  }, 180_000);

  it('a damaged cache entry is rebuilt', async () => {
    const cacheDir = await scratchDir();
    const { wasm, wit } = await buildWatFixture('contract');
    const first = await startToolport([{ path: wasm, wit, cacheDir }]);
    const entry = String(loadRecord(first.log.records)?.dir);
    await first.close();
    await writeFile(join(entry, 'meta.json'), '{ not json');
    const second = await startToolport([{ path: wasm, wit, cacheDir }]);
    expect(loadRecord(second.log.records)).toMatchObject({ cache: 'miss' });
    expect(textOf(await second.call('contract__echo', { text: 'rebuilt' }))).toBe('rebuilt');
    await second.close();
  });
});

describe('wasm loading: names, package and docs', () => {
  it('the package line of the WIT beside the component names the plugin, with its version and docs', async () => {
    const { toolport, close } = await startToolport([{ path: kitchenWasm }]);
    try {
      const registered = toolport.registry.tools.find((tool) => tool.name === 'kitchen__echo-record');
      expect(registered?.plugin.plugin).toMatchObject({ id: 'kitchen', version: '0.2.0', description: 'Everything a WIT function can take and give, and probes of the host.' });
      const byName = new Map(toolport.listTools().map((tool) => [tool.name, tool.mcpTool]));
      // Doc comments become descriptions; without one, the signature says what it is.
      expect(byName.get('kitchen__check-even')?.description).toBe('Ok with the number, or an error saying it is odd.');
      expect(byName.get('kitchen__echo-u8')?.description).toBe('Calls `echo-u8: func(v: u8) -> u8` in toolport:kitchen@0.2.0.');
      expect(byName.get('kitchen__shapes_distance')?.description).toBe(
        'Calls `distance: func(a: point, b: point) -> f64` in toolport:kitchen/shapes@0.2.0 (toolport:kitchen@0.2.0). Shapes, exported as an interface.',
      );
      // A type the world uses from the host API is resolved from the component.
      expect(byName.get('kitchen__context')?.outputSchema).toMatchObject({
        properties: { result: { title: 'plugin-context', properties: { query: { title: 'query', required: ['content'] } } } },
      });
      expect(byName.get('kitchen__shapes_move')?._meta).toMatchObject({
        'toolport/wit': 'move: func(p: point, dx: s32, dy: s32) -> point',
        'toolport/origin': { plugin: 'kitchen', tool: 'shapes/move' },
      });
    } finally {
      await close();
    }
  }, 120_000);

  it('without a WIT file: an exported interface’s package names the plugin; else the file name', async () => {
    const withInterface = await buildDummyComponent(
      `package acme:greeter@1.2.0;
interface greeter { greet: func(name: string) -> string; }
world plugin { export greeter; }`,
      'plugin',
    );
    const worldOnly = await buildDummyComponent(`package acme:plain@1.0.0;\nworld plugin { export hello: func() -> string; }`, 'plugin');
    const dir = await scratchDir();
    await cp(worldOnly, join(dir, 'my-plugin.wasm'));
    const { toolport, close } = await startToolport([{ path: withInterface }, { path: join(dir, 'my-plugin.wasm') }]);
    try {
      const names = toolport.listTools().map((tool) => tool.name);
      expect(names).toEqual(['greeter__greeter_greet', 'my-plugin__hello']);
      expect(toolport.registry.tools[0]?.plugin.plugin.version).toBe('1.2.0');
      expect(toolport.diagnostics).toEqual([]);
    } finally {
      await close();
    }
  });

  it('a WIT file that does not match the component is not trusted for those functions', async () => {
    const component = await buildDummyComponent(`package acme:drift@1.0.0;\nworld plugin { export add: func(a: u32, b: u32) -> u32; export id: func(v: string) -> string; }`, 'plugin');
    const dir = await scratchDir();
    const wit = join(dir, 'plugin.wit');
    await writeFile(
      wit,
      `package acme:drift@2.0.0;\nworld plugin {\n  /// Adds two small numbers.\n  export add: func(a: u8, b: u8) -> u8;\n  /// Returns its argument.\n  export id: func(v: string) -> string;\n}\n`,
    );
    const { toolport, log, close } = await startToolport([{ path: component, wit }]);
    try {
      const byName = new Map(toolport.listTools().map((tool) => [tool.name, tool.mcpTool]));
      expect(byName.get('drift__id')?.description).toBe('Returns its argument.');
      // The component's own types win: u32, not the WIT's u8.
      expect(byName.get('drift__add')?.inputSchema.properties?.a).toEqual({ type: 'integer', minimum: 0, maximum: 4_294_967_295 });
      expect(byName.get('drift__add')?.description).toMatch(/^Calls `add: func/);
      expect(log.messages(40).join('\n')).toContain('does not match the component: add: the WIT says `func(a: u8, b: u8) -> u8`');
    } finally {
      await close();
    }
  });

  it('resource functions are skipped with a warning; fixed-size lists have their length', async () => {
    const component = await buildDummyComponent(
      `package acme:res@0.1.0;
interface counters {
  resource counter { constructor(start: u32); get: func() -> u32; }
  make: func() -> counter;
  triple: func(v: list<u16, 3>) -> list<u16, 3>;
}
world plugin { export counters; }`,
      'plugin',
    );
    const { toolport, log, close } = await startToolport([{ path: component }]);
    try {
      expect(toolport.listTools().map((tool) => tool.name)).toEqual(['res__counters_triple']);
      expect(toolport.listTools()[0]?.mcpTool.inputSchema.properties?.v).toEqual({
        type: 'array',
        items: { type: 'integer', minimum: 0, maximum: 65_535 },
        minItems: 3,
        maxItems: 3,
      });
      const warnings = log.messages(40).join('\n');
      expect(warnings).toContain('function counters/[constructor]counter is not served as a tool: it belongs to a resource');
      expect(warnings).toContain('function counters/make is not served as a tool: it uses own handle');
    } finally {
      await close();
    }
  });
});

describe('wasm loading: what cannot be served', () => {
  it('unknown imports fail the load, each named', async () => {
    const component = await buildDummyComponent(
      `package acme:needy@0.1.0;
world plugin {
  import acme:db/query@1.0.0;
  import log: func(msg: string);
  import asterai:host/api@0.1.0;
  import wasi:keyvalue/store@0.2.0;
  export f: func();
}
package acme:db@1.0.0 { interface query { run: func(sql: string) -> string; } }
package wasi:keyvalue@0.2.0 { interface store { get: func(key: string) -> option<string>; } }`,
      'plugin',
    );
    const { toolport, close } = await startToolport([{ path: component }]);
    try {
      expect(toolport.listTools()).toEqual([]);
      const message = toolport.diagnostics.map((diagnostic) => diagnostic.message).join('\n');
      expect(message).toContain('imports that toolport cannot provide:');
      expect(message).toContain('function "log" (a world-level import)');
      expect(message).toContain('acme:db/query@1.0.0');
      expect(message).toContain('wasi:keyvalue/store@0.2.0');
      expect(message).not.toContain('asterai:host/api@0.1.0');
    } finally {
      await close();
    }
  });

  it('a host API function or version toolport does not provide is named', async () => {
    const extraFunction = await buildDummyComponent(
      `package acme:newer@0.1.0;
world plugin { import asterai:host/api@0.1.0; export f: func(); }
package asterai:host@0.1.0 { interface api { send-response-to-agent: func(response: string); get-runtime-info: func() -> string; } }`,
      'plugin',
    );
    const newerApi = await buildDummyComponent(
      `package acme:newest@0.1.0;
world plugin { import asterai:host/api@1.0.0; export f: func(); }
package asterai:host@1.0.0 { interface api { list-components: func() -> list<string>; } }`,
      'plugin',
    );
    const { toolport, close } = await startToolport([{ path: extraFunction }, { path: newerApi }]);
    try {
      const message = toolport.diagnostics.map((diagnostic) => diagnostic.message).join('\n');
      expect(message).toContain('asterai:host/api@0.1.0 function "get-runtime-info" (not part of asterai:host/api@0.1.0)');
      expect(message).toContain('asterai:host/api@1.0.0 (toolport provides asterai:host/api@0.1.0');
    } finally {
      await close();
    }
  });

  it('a core module, a file that is no Wasm, a truncated component and a missing file are named', async () => {
    const dir = await scratchDir();
    await writeFile(join(dir, 'core.wasm'), await parse('(module (func (export "f")))'));
    await writeFile(join(dir, 'text.wasm'), 'this is not wasm');
    const { wasm } = await buildWatFixture('contract');
    await writeFile(join(dir, 'cut.wasm'), (await readFile(wasm)).subarray(0, 120));
    const { toolport, close } = await startToolport(['core', 'text', 'cut', 'missing'].map((name) => ({ path: join(dir, `${name}.wasm`) })));
    try {
      const messages = toolport.diagnostics.map((diagnostic) => diagnostic.message);
      expect(messages).toHaveLength(4);
      expect(messages.find((message) => message.includes('core.wasm'))).toContain('a core Wasm module, not a component');
      expect(messages.find((message) => message.includes('text.wasm'))).toContain('not a Wasm component');
      expect(messages.find((message) => message.includes('cut.wasm'))).toContain('cannot read the component');
      expect(messages.find((message) => message.includes('missing.wasm'))).toContain('file not found');
    } finally {
      await close();
    }
  });

  it('a granted folder that does not exist fails the load, naming it', async () => {
    const { wasm, wit } = await buildWatFixture('contract');
    const { toolport, close } = await startToolport([{ path: wasm, wit, grants: { files: { './no-such-folder': 'ro' } } }]);
    try {
      expect(toolport.diagnostics[0]?.message).toContain('grants.files["./no-such-folder"]: not a folder:');
    } finally {
      await close();
    }
  });

  it('unknown config keys of the wasm kind are a config error, with the key it was meant to be', async () => {
    const { wasm } = await buildWatFixture('contract');
    expect(() => parseConfig({ plugins: [{ path: wasm, kind: 'wasm', memoryLimit: 5 }] })).toThrow(
      /plugins\[0\]: unknown key "memoryLimit" \(did you mean "memoryLimitMb"\?\)/,
    );
    // Without `kind`, the block is checked once the path says it is a wasm plugin.
    await expect(createToolport(parseConfig({ plugins: [{ path: wasm, allowSubprocess: true }] }))).rejects.toThrow(
      /plugins\[0\]: "allowSubprocess" is a key of python plugins, and this is a wasm plugin/,
    );
  });

  it('one bad plugin does not stop the server from serving the others', async () => {
    const dir = await scratchDir();
    await writeFile(join(dir, 'broken.wasm'), 'nope');
    const { wasm, wit } = await buildWatFixture('contract');
    const config = await writeConfig({ plugins: [{ path: join(dir, 'broken.wasm') }, { path: wasm, wit, cacheDir: sharedCacheDir }] });
    const server = await startHttpServer(['--config', config]);
    const client = await connectClient('http-2026', { url: server.url });
    try {
      const result = await client.callTool({ name: 'contract__echo', arguments: { text: 'still serving' } });
      expect(result.content).toEqual([{ type: 'text', text: 'still serving' }]);
      expect(server.stderr()).toContain('broken.wasm: not a Wasm component');
    } finally {
      await client.close();
      await server.stop();
    }
  }, 60_000);
});

describe('wasm fixtures', () => {
  it('the committed JS fixtures are built from their current sources (else: npm run build:fixtures)', async () => {
    for (const fixture of jsFixtures) {
      expect((await readFile(stampPathOf(fixture), 'utf8')).trim()).toBe(await sourcesHashOf(fixture));
    }
  });
});
