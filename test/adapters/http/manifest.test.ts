// Carter manifests: every documented rule is refused with its JSON path, what is allowed
// loads, and a bad manifest fails only its own plugin. Manifests come from real files
// and from a real HTTP server.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpAdapter } from '../../../src/adapters/http/index.js';
import type { LoadedPlugin } from '../../../src/core/plugin.js';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCode, isToolportError } from '../../../src/core/errors.js';
import { createToolport } from '../../../src/toolport.js';
import { startCarterApi, type CarterApi } from './carter-api.js';
import { useTempDir } from '../../helpers/temp-dir.js';

type Json = Record<string, unknown>;
type Path = readonly (string | number)[];
const remove = Symbol('remove');

/** A manifest of our own that uses every feature; each test gets a fresh copy. */
function validManifest(): Json {
  return {
    manifest_version: '1',
    developer_id: 'dev-42',
    version: '2.1.0-beta.1+build.7',
    name: 'harbour-tides',
    name_for_human: 'Harbour Tides',
    name_for_machine: 'harbour_tides',
    description_for_human: 'Tide times for small harbours.',
    description_for_machine: 'Tide times and heights for small harbours.',
    author_name: 'Test Author',
    contact_email: 'tides@example.com',
    api: {
      base_url: 'https://tides.example.com/v1/',
      endpoints: [
        {
          name: 'next_tide',
          description: 'The next high or low tide at a harbour.',
          path: '/next',
          input: [
            { name: 'harbour', type: 'string', required: true, description: 'Harbour name.', example: 'Porthleven' },
            { name: 'days_ahead', type: 'number', required: false, description: 'Days from today.', example: 1 },
            { name: 'metric', type: 'boolean', required: false, description: 'Heights in metres.', example: true },
          ],
          output: [
            { name: 'time', type: 'string', description: 'Local time.', example: '14:02' },
            { name: 'height_m', type: 'number', description: 'Height in metres.', example: 4.1 },
            { name: 'rising', type: 'boolean', description: 'Whether the tide is rising.', example: true },
            { name: 'station', type: 'object', description: 'The gauge station.', example: '{"id":"PL1"}' },
          ],
        },
        { name: 'harbours', path: '/harbours', method: 'GET', input: [], output: [] },
      ],
    },
  };
}

function change(manifest: Json, path: Path, value: unknown): Json {
  let target: unknown = manifest;
  for (const key of path.slice(0, -1)) target = (target as Record<string | number, unknown>)[key];
  const last = path[path.length - 1] as string | number;
  const holder = target as Record<string | number, unknown>;
  if (value === remove) delete holder[last];
  else holder[last] = value;
  return manifest;
}

function endpoint(index: number): Path {
  return ['api', 'endpoints', index];
}

const dir = useTempDir('toolport-http-manifest-', 'all');
let counter = 0;


async function writeManifest(manifest: unknown): Promise<string> {
  const path = join(dir.path, `manifest-${counter++}.json`);
  await writeFile(path, typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 2));
  return path;
}

async function load(path: string, extra: Json = {}): Promise<{ plugin: LoadedPlugin; logs: string[] }> {
  const logs: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) });
  const spec = httpAdapter.spec.parse({ path, kind: 'http', ...extra });
  const plugin = await httpAdapter.load(spec, { baseDir: dir.path, logger, stateDir: dir.path, cacheDir: dir.path, toolsChanged: () => {} });
  return { plugin, logs };
}

async function loadError(manifest: unknown): Promise<string> {
  const path = await writeManifest(manifest);
  try {
    const { plugin } = await load(path);
    await plugin.close();
  } catch (error) {
    if (isToolportError(error) && error.code === ErrorCode.PluginLoadFailed) {
      expect(error.shortMessage.startsWith(`${path}: `)).toBe(true);
      return error.shortMessage;
    }
    throw error;
  }
  throw new Error('the manifest loaded, but it should have been refused');
}

describe('http manifest: refused with its path', () => {
  const required = [
    'manifest_version', 'developer_id', 'version', 'name', 'name_for_human', 'name_for_machine',
    'description_for_human', 'description_for_machine', 'author_name', 'contact_email', 'api',
  ];
  it.each(required)('missing top-level %s', async (key) => {
    expect(await loadError(change(validManifest(), [key], remove))).toContain(`\n  ${key}: required, but missing`);
  });

  const cases: { what: string; at: Path; value: unknown; line: string }[] = [
    { what: 'manifest_version other than "1"', at: ['manifest_version'], value: '2', line: 'manifest_version: expected the string "1", got "2"' },
    { what: 'manifest_version as a number', at: ['manifest_version'], value: 1, line: 'manifest_version: expected the string "1", got 1' },
    { what: 'version not semver', at: ['version'], value: '1.0', line: 'version: expected a semantic version such as "1.0.0", got "1.0"' },
    { what: 'version with a v', at: ['version'], value: 'v1.0.0', line: 'version: expected a semantic version' },
    { what: 'empty name', at: ['name'], value: '', line: 'name: expected a non-empty string, got ""' },
    { what: 'developer_id not a string', at: ['developer_id'], value: 42, line: 'developer_id: expected a non-empty string, got 42' },
    { what: 'name_for_machine with capitals', at: ['name_for_machine'], value: 'Tides', line: 'name_for_machine: expected only lowercase letters and underscores, such as "weather", got "Tides"' },
    { what: 'name_for_machine with a digit', at: ['name_for_machine'], value: 'tides2', line: 'name_for_machine: expected only lowercase letters and underscores' },
    { what: 'name_for_machine with a dash', at: ['name_for_machine'], value: 'harbour-tides', line: 'name_for_machine: expected only lowercase letters and underscores' },
    { what: 'contact_email not an address', at: ['contact_email'], value: 'tides at example', line: 'contact_email: expected an email address, got "tides at example"' },
    { what: 'description_for_human not a string', at: ['description_for_human'], value: ['a'], line: 'description_for_human: expected a string, got a list of 1' },
    { what: 'api not an object', at: ['api'], value: 'https://tides.example.com', line: 'api: expected an object with base_url and endpoints' },
    { what: 'missing base_url', at: ['api', 'base_url'], value: remove, line: 'api.base_url: required, but missing' },
    { what: 'base_url not http(s)', at: ['api', 'base_url'], value: 'ftp://tides.example.com', line: 'api.base_url: expected an http(s) URL such as "https://weather.example.com", got "ftp://tides.example.com"' },
    { what: 'base_url relative', at: ['api', 'base_url'], value: '/v1', line: 'api.base_url: expected an http(s) URL' },
    { what: 'base_url with credentials', at: ['api', 'base_url'], value: 'https://me:pw@tides.example.com', line: 'api.base_url: must not contain a user name or password' },
    { what: 'base_url with a query', at: ['api', 'base_url'], value: 'https://tides.example.com/?key=1', line: 'api.base_url: must not contain a query (?...) or fragment (#...)' },
    { what: 'missing endpoints', at: ['api', 'endpoints'], value: remove, line: 'api.endpoints: required, but missing' },
    { what: 'no endpoints', at: ['api', 'endpoints'], value: [], line: 'api.endpoints: expected 1 to 15 endpoints, found 0' },
    { what: 'endpoint without name', at: [...endpoint(0), 'name'], value: remove, line: 'api.endpoints[0].name: required, but missing' },
    { what: 'endpoint without path', at: [...endpoint(1), 'path'], value: remove, line: 'api.endpoints[1].path: required, but missing' },
    { what: 'path without a leading slash', at: [...endpoint(0), 'path'], value: 'next', line: 'api.endpoints[0].path: expected a path starting with "/", such as "/current", got "next"' },
    { what: 'path that would move to another host', at: [...endpoint(0), 'path'], value: '@evil.example/next', line: 'api.endpoints[0].path: expected a path starting with "/"' },
    { what: 'method PUT', at: [...endpoint(0), 'method'], value: 'PUT', line: 'api.endpoints[0].method: expected "GET" or "POST" (default "POST"), got "PUT"' },
    { what: 'method in lowercase', at: [...endpoint(1), 'method'], value: 'get', line: 'api.endpoints[1].method: expected "GET" or "POST" (default "POST"), got "get"' },
    { what: 'endpoint without input', at: [...endpoint(1), 'input'], value: remove, line: 'api.endpoints[1].input: required, but missing' },
    { what: 'endpoint without output', at: [...endpoint(1), 'output'], value: remove, line: 'api.endpoints[1].output: required, but missing' },
    { what: 'input type integer', at: [...endpoint(0), 'input', 0, 'type'], value: 'integer', line: 'api.endpoints[0].input[0].type: expected "string", "number" or "boolean", got "integer"' },
    { what: 'input required not boolean', at: [...endpoint(0), 'input', 1, 'required'], value: 'yes', line: 'api.endpoints[0].input[1].required: expected true or false, got "yes"' },
    { what: 'input without required', at: [...endpoint(0), 'input', 1, 'required'], value: remove, line: 'api.endpoints[0].input[1].required: required, but missing' },
    { what: 'input without description', at: [...endpoint(0), 'input', 2, 'description'], value: remove, line: 'api.endpoints[0].input[2].description: required, but missing' },
    { what: 'input without name', at: [...endpoint(0), 'input', 0, 'name'], value: remove, line: 'api.endpoints[0].input[0].name: required, but missing' },
    { what: 'number input with a string example', at: [...endpoint(0), 'input', 1, 'example'], value: '1', line: 'api.endpoints[0].input[1].example: expected a number, as the input\'s type is "number", got "1"' },
    { what: 'boolean input with a string example', at: [...endpoint(0), 'input', 2, 'example'], value: 'yes', line: 'api.endpoints[0].input[2].example: expected true or false, as the input\'s type is "boolean", got "yes"' },
    { what: 'string input with a number example', at: [...endpoint(0), 'input', 0, 'example'], value: 7, line: 'api.endpoints[0].input[0].example: expected a string, as the input\'s type is "string", got 7' },
    { what: 'output type array', at: [...endpoint(0), 'output', 0, 'type'], value: 'array', line: 'api.endpoints[0].output[0].type: expected "string", "number", "boolean" or "object", got "array"' },
    { what: 'output without example', at: [...endpoint(0), 'output', 1, 'example'], value: remove, line: 'api.endpoints[0].output[1].example: required, but missing' },
    { what: 'output without description', at: [...endpoint(0), 'output', 1, 'description'], value: remove, line: 'api.endpoints[0].output[1].description: required, but missing' },
    { what: 'number output with a string example', at: [...endpoint(0), 'output', 1, 'example'], value: '4.1', line: 'api.endpoints[0].output[1].example: expected a number, as the output\'s type is "number", got "4.1"' },
    { what: 'boolean output with a number example', at: [...endpoint(0), 'output', 2, 'example'], value: 1, line: 'api.endpoints[0].output[2].example: expected true or false, as the output\'s type is "boolean", got 1' },
    { what: 'object output with a number example', at: [...endpoint(0), 'output', 3, 'example'], value: 5, line: 'api.endpoints[0].output[3].example: expected a stringified JSON object, as the output\'s type is "object", got 5' },
  ];
  it.each(cases)('$what', async ({ at, value, line }) => {
    expect(await loadError(change(validManifest(), at, value))).toContain(`\n  ${line}`);
  });

  it('more than 15 endpoints', async () => {
    const manifest = validManifest();
    const endpoints = Array.from({ length: 16 }, (_, index) => ({ name: `e${index}`, path: `/e${index}`, input: [], output: [] }));
    expect(await loadError(change(manifest, ['api', 'endpoints'], endpoints))).toContain('\n  api.endpoints: expected 1 to 15 endpoints, found 16');
  });

  it('more than 3 inputs', async () => {
    const inputs = Array.from({ length: 4 }, (_, index) => ({ name: `i${index}`, type: 'string', required: false, description: 'x' }));
    expect(await loadError(change(validManifest(), [...endpoint(0), 'input'], inputs))).toContain('\n  api.endpoints[0].input: expected 0 to 3 inputs, found 4');
  });

  it('more than 10 outputs', async () => {
    const outputs = Array.from({ length: 11 }, (_, index) => ({ name: `o${index}`, type: 'string', description: 'x', example: 'x' }));
    expect(await loadError(change(validManifest(), [...endpoint(0), 'output'], outputs))).toContain('\n  api.endpoints[0].output: expected 0 to 10 outputs, found 11');
  });

  it('two endpoints with one name', async () => {
    const message = await loadError(change(validManifest(), [...endpoint(1), 'name'], 'next_tide'));
    expect(message).toContain('\n  api.endpoints[1].name: "next_tide" is already the name of api.endpoints[0]; endpoint names must be unique');
  });

  it('two inputs with one name, two outputs with one name', async () => {
    const manifest = change(validManifest(), [...endpoint(0), 'input', 2, 'name'], 'harbour');
    change(manifest, [...endpoint(0), 'output', 3, 'name'], 'time');
    const message = await loadError(manifest);
    expect(message).toContain('\n  api.endpoints[0].input[2].name: "harbour" is already the name of api.endpoints[0].input[0]; input names must be unique');
    expect(message).toContain('\n  api.endpoints[0].output[3].name: "time" is already the name of api.endpoints[0].output[0]; output names must be unique');
  });

  it('every problem of a manifest is listed, not only the first', async () => {
    const manifest = change(validManifest(), ['version'], 'one');
    change(manifest, ['name_for_machine'], 'Tides');
    change(manifest, [...endpoint(1), 'method'], 'DELETE');
    const message = await loadError(manifest);
    expect(message.split('\n').filter((line) => line.startsWith('  '))).toHaveLength(3);
  });

  it('a manifest that is not an object, not JSON, or not there', async () => {
    expect(await loadError([validManifest()])).toContain('\n  (top level): expected a JSON object (a Carter plugin manifest), got a list of 1');
    expect(await loadError('{"manifest_version": "1",')).toMatch(/: is not valid JSON \(.+\)$/);
    const missing = join(dir.path, 'no-such-manifest.json');
    await expect(load(missing)).rejects.toMatchObject({ code: ErrorCode.PluginLoadFailed, shortMessage: `${missing}: file not found` });
  });

  it('a manifest over 1 MiB is not read', async () => {
    const manifest = change(validManifest(), ['description_for_human'], 'x'.repeat(1024 * 1024));
    expect(await loadError(manifest)).toMatch(/: is \d+ bytes; a manifest may be at most 1048576$/);
  });
});

describe('http manifest: what loads', () => {
  it('one tool per endpoint, with schemas from inputs and outputs and no input examples', async () => {
    const { plugin } = await load(await writeManifest(validManifest()));
    try {
      expect(plugin.id).toBe('harbour_tides');
      expect(plugin.version).toBe('2.1.0-beta.1+build.7');
      expect(plugin.tools.map((tool) => tool.name)).toEqual(['next_tide', 'harbours']);
      const [next, harbours] = plugin.tools;
      expect(next?.inputSchema).toEqual({
        type: 'object',
        properties: {
          harbour: { type: 'string', description: 'Harbour name.' },
          days_ahead: { type: 'number', description: 'Days from today.' },
          metric: { type: 'boolean', description: 'Heights in metres.' },
        },
        required: ['harbour'],
        additionalProperties: false,
      });
      // Carter warns that agents reuse input examples instead of asking the user.
      expect(JSON.stringify(next?.inputSchema)).not.toMatch(/Porthleven|example/);
      expect(next?.outputSchema).toEqual({
        type: 'object',
        properties: {
          time: { type: 'string', description: 'Local time.', examples: ['14:02'] },
          height_m: { type: 'number', description: 'Height in metres.', examples: [4.1] },
          rising: { type: 'boolean', description: 'Whether the tide is rising.', examples: [true] },
          station: { type: 'object', description: 'The gauge station.', examples: [{ id: 'PL1' }] },
        },
        additionalProperties: false,
      });
      expect(next?.description).toBe('The next high or low tide at a harbour.\n\nPart of the Harbour Tides plugin: Tide times and heights for small harbours.');
      expect(next?.annotations).toEqual({ openWorldHint: true });
      expect(harbours?.description).toBe('Part of the Harbour Tides plugin: Tide times and heights for small harbours.');
      expect(harbours?.inputSchema).toEqual({ type: 'object', properties: {}, additionalProperties: false });
    } finally {
      await plugin.close();
    }
  });

  it('the limits themselves are allowed: 15 endpoints, 3 inputs, 10 outputs', async () => {
    const outputs = Array.from({ length: 10 }, (_, index) => ({ name: `o${index}`, type: 'number', description: 'x', example: index }));
    const endpoints = Array.from({ length: 15 }, (_, index) => ({ name: `e${index}`, path: `/e${index}`, input: [], output: outputs }));
    const manifest = change(validManifest(), ['api', 'endpoints'], endpoints);
    change(manifest, [...endpoint(0), 'input'], (validManifest() as { api: { endpoints: [{ input: unknown }] } }).api.endpoints[0].input);
    const { plugin } = await load(await writeManifest(manifest));
    expect(plugin.tools).toHaveLength(15);
    await plugin.close();
  });

  it('the misspelt key from Carter\'s field table and unknown keys load, with warnings', async () => {
    const manifest = change(validManifest(), ['description_for_machine'], remove);
    change(manifest, ['desscription_for_machine'], 'Tides, from the typo key.');
    change(manifest, [...endpoint(0), 'methdo'], 'GET');
    change(manifest, ['logo_url'], 'https://tides.example.com/logo.png');
    const { plugin, logs } = await load(await writeManifest(manifest));
    expect(plugin.tools[0]?.description).toContain('Tides, from the typo key.');
    const warnings = logs.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level === 40).map((line) => line.msg);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining('desscription_for_machine: read as description_for_machine'),
        expect.stringContaining('api.endpoints[0].methdo: not a Carter manifest key (ignored)'),
        expect.stringContaining('logo_url: not a Carter manifest key (ignored)'),
      ]),
    );
    await plugin.close();
  });

  it('a relative path is read from the context\'s base folder', async () => {
    const path = await writeManifest(validManifest());
    const { plugin } = await load(path.slice(dir.path.length + 1));
    expect(plugin.id).toBe('harbour_tides');
    await plugin.close();
  });

  it('a UTF-8 byte order mark before the JSON is accepted', async () => {
    const { plugin } = await load(await writeManifest(`\uFEFF${JSON.stringify(validManifest())}`));
    expect(plugin.tools).toHaveLength(2);
    await plugin.close();
  });

  it('config keys are checked too: secretToken must be one clean line, timeouts positive', () => {
    const parse = (extra: Json) => httpAdapter.spec.safeParse({ path: 'x.json', kind: 'http', ...extra });
    expect(parse({ secretToken: 'abc\n' }).success).toBe(false);
    expect(parse({ secretToken: ' abc' }).success).toBe(false);
    expect(parse({ secretToken: 'ok-Token_123' }).success).toBe(true);
    expect(parse({ timeouts: { headersSeconds: 0 } }).success).toBe(false);
    expect(parse({ timeouts: { connectSecs: 1 } }).success).toBe(false);
    expect(parse({ secretTokne: 'x' }).success).toBe(false);
    const parsed = parse({ timeouts: { headersSeconds: 2 } });
    expect(parsed.success && parsed.data.timeouts).toEqual({ connectSeconds: 30, headersSeconds: 2, bodySeconds: 30 });
  });
});

describe('http manifest: from a URL', () => {
  const secret = 'manifest-test-secret-77';
  let api: CarterApi;
  beforeAll(async () => {
    api = await startCarterApi({ secret });
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('is fetched without the secret header; calls then carry it', async () => {
    await api.reset();
    const { plugin } = await load(api.manifestUrl('contract'), { secretToken: secret });
    try {
      expect(plugin.tools.map((tool) => tool.name)).toEqual(['echo', 'fail', 'crash', 'hang']);
      const outcome = await plugin.call('echo', { text: 'hi' }, {
        signal: new AbortController().signal,
        deadline: { ms: 30_000, hold: () => {}, restart: () => {} },
        client: { elicit: () => Promise.reject(new Error('no client')), sample: () => Promise.reject(new Error('no client')) },
        progress: () => {},
        log: () => {},
        context: { callId: '1', principal: 'local' },
      });
      expect(outcome.structuredContent).toEqual({ text: 'echo: hi' });
      const seen = await api.requests();
      expect(seen.map((request) => [request.path, request.secretHeader])).toEqual([
        ['/manifests/contract.json', null],
        ['/api/echo', secret],
      ]);
    } finally {
      await plugin.close();
    }
  });

  it('warns when a fetched manifest sends calls to another origin', async () => {
    const warning = 'the manifest sends calls (and the secret token) to another origin';
    const same = await load(api.manifestUrl('contract'), { secretToken: secret });
    const elsewhere = await load(`${api.manifestUrl('contract')}?base_url=${encodeURIComponent('http://127.0.0.2:9/api')}`, { secretToken: secret });
    await same.plugin.close();
    await elsewhere.plugin.close();
    expect(same.logs.some((line) => line.includes(warning))).toBe(false);
    expect(elsewhere.logs.some((line) => line.includes(warning))).toBe(true);
  });

  it('a URL that answers 404, or where nothing listens, fails with a clear reason', async () => {
    await expect(load(`${api.origin}/manifests/nope.json`)).rejects.toMatchObject({
      shortMessage: `${api.origin}/manifests/nope.json: fetching the manifest answered HTTP 404`,
    });
    await expect(load('http://127.0.0.1:1/carterplugin.json')).rejects.toMatchObject({
      shortMessage: 'http://127.0.0.1:1/carterplugin.json: cannot fetch the manifest: connection refused',
    });
  });

  it('a bad manifest fails its plugin only; the other plugins serve', async () => {
    const bad = await writeManifest(change(validManifest(), ['name_for_machine'], 'Bad Name'));
    const config = parseConfig({ plugins: [{ path: bad }, { path: api.manifestUrl('contract'), secretToken: secret }] });
    const toolport = await createToolport(config);
    try {
      expect(toolport.diagnostics).toEqual([
        {
          level: 'error',
          message: expect.stringContaining(`plugins[0] ${bad}: invalid Carter manifest:\n  name_for_machine: expected only lowercase letters and underscores`) as unknown,
        },
      ]);
      expect(toolport.listTools().map((tool) => tool.name)).toEqual(['contract__crash', 'contract__echo', 'contract__fail', 'contract__hang']);
      expect(toolport.listTools()[0]?.kind).toBe('http');
    } finally {
      await toolport.close();
    }
  });
});
