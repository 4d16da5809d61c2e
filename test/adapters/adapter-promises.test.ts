// README promises of the wasm (Asterai) and http (Carter) kinds that no other test held to:
// symlinks cannot lead a plugin out of a granted folder, the default app-id, workers start
// on the first call, the manifest fetch follows at most five redirects, the secret-token
// warnings, and the relationship key file. Real path only: createToolport over parseConfig,
// the real kitchen component in worker threads, real HTTP servers on loopback.
import { lstat, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createToolport, type Toolport } from '../../src/toolport.js';
import { callTool } from '../helpers/call-tool.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { createCapturingLogger, type CapturingLogger } from '../helpers/capturing-logger.js';

// Not imported from ./wasm/helpers.ts on purpose: it imports the fixture builder, whose
// jco-transpile import starts a worker thread of its own (preview2-shim's I/O thread), and
// this file counts worker threads. The same paths as there: the committed kitchen component
// and the transpile cache the wasm tests share.
const kitchenWasm = fileURLToPath(new URL('../fixtures/wasm/kitchen/kitchen.wasm', import.meta.url));
const sharedCacheDir = join(tmpdir(), 'toolport-wasm-test-cache');

function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

interface TestToolport {
  toolport: Toolport;
  log: CapturingLogger;
  call: (name: string, args?: unknown) => Promise<CallToolResult>;
  close: () => Promise<void>;
}

/** A toolport over one kitchen plugin block, with its own state folder and a readable log. */
async function startKitchen(plugin: Record<string, unknown> = {}): Promise<TestToolport> {
  const stateDir = await mkdtemp(join(tmpdir(), 'toolport-promises-state-'));
  const log = createCapturingLogger();
  const config = parseConfig({ plugins: [{ kind: 'wasm', path: kitchenWasm, cacheDir: sharedCacheDir, readOnly: ['*'], timeoutSeconds: 60, ...plugin }] });
  const toolport = await createToolport(config, { logger: log.logger, stateDir });
  return {
    toolport,
    log,
    call: (name, args = {}) => callTool(toolport, name, args),
    close: async () => {
      await toolport.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------
// Wasm plugins (Asterai)
// ---------------------------------------------------------------------------------------

/** Worker threads of this process right now, as the diagnostic report lists them. */
function workerThreads(): number {
  const report = process.report.getReport() as unknown as { workers?: unknown[] };
  return report.workers?.length ?? 0;
}

describe('wasm promises: workers start on the first call, not at load', () => {
  it('after createToolport no worker thread exists; after the first call one does; close ends it', async () => {
    const before = workerThreads();
    const kitchen = await startKitchen();
    try {
      // Loading (even a cold transpile, which has its own worker) leaves no thread behind.
      expect(workerThreads(), 'worker threads after load, before any call').toBe(before);
      // Nor a moment later: nothing is started in the background.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(workerThreads(), 'worker threads a moment after load').toBe(before);
      // Listing tools is not a call either.
      expect(kitchen.toolport.listTools().some((tool) => tool.name === 'kitchen__echo-string')).toBe(true);
      expect(workerThreads(), 'worker threads after listing tools').toBe(before);
      expect(textOf(await kitchen.call('kitchen__echo-string', { v: 'first call' }))).toBe('first call');
      expect(workerThreads(), 'worker threads after the first call').toBe(before + 1);
      // The instance stays for the next call: no second worker.
      expect(textOf(await kitchen.call('kitchen__echo-string', { v: 'second call' }))).toBe('second call');
      expect(workerThreads(), 'worker threads after the second call').toBe(before + 1);
    } finally {
      await kitchen.close();
    }
    expect(workerThreads(), 'worker threads after close').toBe(before);
  }, 120_000);
});

describe('wasm promises: get-context app-id default', () => {
  it('without settings.appId, the app id is toolport:<plugin>', async () => {
    const kitchen = await startKitchen();
    try {
      const result = await kitchen.call('kitchen__context');
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual({ result: { query: { content: '{}', 'user-id': 'local' }, 'app-id': 'toolport:kitchen' } });
    } finally {
      await kitchen.close();
    }
  }, 120_000);
});

describe('wasm promises: symlinks cannot leave a granted folder', () => {
  const granted = useTempDir('toolport-promises-granted-', 'all');
  const outside = useTempDir('toolport-promises-outside-', 'all');
  const secretText = 'OUTSIDE-SECRET-9d1f3c: never for plugins';
  let kitchen: TestToolport;
  let secretFile: string;

  beforeAll(async () => {
    secretFile = join(outside.path, 'secret.txt');
    await writeFile(secretFile, secretText);
    await writeFile(join(granted.path, 'inside.txt'), 'inside content');
    // A relative link that stays inside: the control that the probe does follow links.
    await symlink('inside.txt', join(granted.path, 'relative-link.txt'));
    // Absolute links out of the folder: to a file, and to a folder.
    await symlink(secretFile, join(granted.path, 'absolute-link.txt'));
    await symlink(outside.path, join(granted.path, 'absolute-dir'));
    // A relative link that climbs out with `..`.
    await symlink(`../${basename(outside.path)}/secret.txt`, join(granted.path, 'dotdot-link.txt'));
    // A chain: an innocent-looking relative link to an absolute one.
    await symlink('absolute-link.txt', join(granted.path, 'chained-link.txt'));
    kitchen = await startKitchen({ grants: { files: { [granted.path]: 'rw' } } });
  }, 120_000);

  afterAll(async () => {
    await kitchen?.close();
  });

  const read = (name: string): Promise<CallToolResult> => kitchen.call('kitchen__read-file', { path: `${granted.path}/${name}` });

  function expectRefused(result: CallToolResult): void {
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result)).not.toContain('OUTSIDE-SECRET');
  }

  it('the probe reads the folder, and follows a relative link that stays inside', async () => {
    expect(textOf(await read('inside.txt'))).toBe('inside content');
    expect(textOf(await read('relative-link.txt'))).toBe('inside content');
  });

  it('an absolute symlink to a file outside is refused; its content never appears', async () => {
    // The link really is there and really points at the readable outside file.
    expect((await lstat(join(granted.path, 'absolute-link.txt'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(granted.path, 'absolute-link.txt'))).toBe(secretFile);
    const result = await read('absolute-link.txt');
    expectRefused(result);
    expect(textOf(result)).toContain('not-permitted');
  });

  it('an absolute symlink to a folder outside is refused', async () => {
    const result = await read('absolute-dir/secret.txt');
    expectRefused(result);
    expect(textOf(result)).toContain('not-permitted');
  });

  it('a relative symlink that climbs out with .. is refused', async () => {
    const result = await read('dotdot-link.txt');
    expectRefused(result);
    expect(textOf(result)).toContain('not-permitted');
  });

  it('a relative symlink leading to an absolute one is refused', async () => {
    const result = await read('chained-link.txt');
    expectRefused(result);
    expect(textOf(result)).toContain('not-permitted');
  });

  it('writing through an absolute symlink in a read-write folder is refused; the outside file is unchanged', async () => {
    const result = await kitchen.call('kitchen__write-file', { path: `${granted.path}/absolute-link.txt`, content: 'overwritten by the plugin' });
    expect(result.isError).toBe(true);
    const viaDir = await kitchen.call('kitchen__write-file', { path: `${granted.path}/absolute-dir/planted.txt`, content: 'planted by the plugin' });
    expect(viaDir.isError).toBe(true);
    expect(await readFile(secretFile, 'utf8')).toBe(secretText);
    await expect(lstat(join(outside.path, 'planted.txt'))).rejects.toThrow();
  });

  it('nothing of the outside file reached the log either', () => {
    expect(JSON.stringify(kitchen.log.records)).not.toContain('OUTSIDE-SECRET');
  });
});

// ---------------------------------------------------------------------------------------
// Carter HTTP plugins
// ---------------------------------------------------------------------------------------

interface Seen {
  method: string;
  path: string;
  secret: string | undefined;
  token: unknown;
}

const apiSecret = 'promises-secret-Kx7-04aa';
let carter: Server;
let origin: string;
let seen: Seen[] = [];

/** A valid Carter manifest whose one endpoint answers the relationship token it received. */
function manifestFor(baseUrl: string): string {
  return JSON.stringify({
    manifest_version: '1',
    developer_id: '0123456789abcdef01234567',
    version: '1.0.0',
    name: 'toolport-promises',
    name_for_human: 'Promises',
    name_for_machine: 'promises',
    description_for_human: 'Answers what it received, for tests.',
    description_for_machine: 'Answers the relationship token it received.',
    author_name: 'toolport tests',
    contact_email: 'tests@example.com',
    api: {
      base_url: baseUrl,
      endpoints: [
        {
          name: 'whoami',
          description: 'The relationship token the API received.',
          path: '/whoami',
          input: [],
          output: [{ name: 'token', type: 'string', description: 'The relationship token.', example: 'abc' }],
        },
      ],
    },
  });
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const url = new URL(request.url ?? '/', origin);
    const body = Buffer.concat(chunks).toString('utf8');
    let token: unknown;
    try {
      token = (JSON.parse(body) as { relationship_token?: unknown }).relationship_token;
    } catch {
      token = undefined;
    }
    const secretHeader = request.headers['x-carter-plugin-secret-token'];
    seen.push({ method: request.method ?? '', path: url.pathname, secret: typeof secretHeader === 'string' ? secretHeader : undefined, token });
    const json = (status: number, value: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(typeof value === 'string' ? value : JSON.stringify(value));
    };
    // /hop/<chain>/<n>: a redirect to /hop/<chain>/<n-1>, and the manifest at 0.
    const hop = /^\/hop\/(\w+)\/(\d+)$/.exec(url.pathname);
    if (hop) {
      const left = Number(hop[2]);
      if (left > 0) {
        response.writeHead(302, { location: `/hop/${hop[1]}/${left - 1}` }).end();
        return;
      }
      json(200, manifestFor(`${origin}/api`));
      return;
    }
    switch (url.pathname) {
      case '/manifest.json':
        json(200, manifestFor(`${origin}/api`));
        return;
      case '/manifest-remote-http.json':
        json(200, manifestFor('http://example.invalid/api'));
        return;
      case '/manifest-remote-https.json':
        json(200, manifestFor('https://example.invalid/api'));
        return;
      case '/manifest-127-name.json':
        // A DNS name that merely starts with "127." — not a loopback address.
        json(200, manifestFor('http://127.example.invalid/api'));
        return;
      case '/api/whoami':
        json(200, { success: true, data: { token } });
        return;
      default:
        json(404, { error: 'not found' });
    }
  });
}

beforeAll(async () => {
  carter = createServer(handle);
  await new Promise<void>((resolve) => carter.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(carter.address() as AddressInfo).port}`;
});

afterAll(async () => {
  carter?.closeAllConnections();
  await new Promise((resolve) => carter?.close(resolve));
});

interface Started {
  toolport: Toolport;
  log: CapturingLogger;
  close: () => Promise<void>;
}

async function startHttp(plugin: Record<string, unknown>, stateDir?: string): Promise<Started> {
  const log = createCapturingLogger();
  const config = parseConfig({ plugins: [{ readOnly: ['*'], ...plugin }] });
  const toolport = await createToolport(config, { logger: log.logger, ...(stateDir !== undefined && { stateDir }) });
  return { toolport, log, close: () => toolport.close() };
}

async function tokenOf(toolport: Toolport, principal: string): Promise<string> {
  const result = await callTool(toolport, 'promises__whoami', {}, { context: { principal } });
  expect(result.isError, textOf(result)).toBeFalsy();
  const token = (result.structuredContent as { token?: unknown } | undefined)?.token;
  expect(token).toMatch(/^[0-9a-f]{64}$/);
  return token as string;
}

describe('http promises: the manifest fetch follows up to five redirects', () => {
  it('a manifest URL that redirects five times loads', async () => {
    seen = [];
    const url = `${origin}/hop/five/5`;
    const started = await startHttp({ path: url, secretToken: apiSecret });
    try {
      expect(started.toolport.diagnostics.filter((item) => item.level === 'error')).toEqual([]);
      expect(started.toolport.listTools().map((tool) => tool.name)).toEqual(['promises__whoami']);
      expect(seen.map((request) => request.path)).toEqual(['/hop/five/5', '/hop/five/4', '/hop/five/3', '/hop/five/2', '/hop/five/1', '/hop/five/0']);
      // Nothing of the manifest fetch carried the secret.
      expect(seen.every((request) => request.secret === undefined)).toBe(true);
    } finally {
      await started.close();
    }
  });

  it('six redirects are a load error that says the manifest URL answered with a redirect', async () => {
    seen = [];
    const url = `${origin}/hop/six/6`;
    const started = await startHttp({ path: url, secretToken: apiSecret });
    try {
      expect(started.toolport.listTools()).toEqual([]);
      expect(started.toolport.diagnostics).toEqual([
        { level: 'error', message: expect.stringContaining(`${url}: fetching the manifest answered HTTP 302`) as unknown },
      ]);
      // Five redirects followed, the sixth not: the manifest at the end was never asked for.
      expect(seen.map((request) => request.path)).toEqual(['/hop/six/6', '/hop/six/5', '/hop/six/4', '/hop/six/3', '/hop/six/2', '/hop/six/1']);
    } finally {
      await started.close();
    }
  });
});

describe('http promises: the secret token and its warnings', () => {
  const noSecretWarning = 'no secretToken configured';
  const plainHttpWarning = 'api.base_url is plain http on a non-loopback host';
  const warnings = (log: CapturingLogger): string[] => log.messages(40);

  it('without secretToken no secret is sent, and toolport warns about it', async () => {
    seen = [];
    const started = await startHttp({ path: `${origin}/manifest.json` });
    try {
      expect(warnings(started.log).filter((message) => message.includes(noSecretWarning))).toHaveLength(1);
      await tokenOf(started.toolport, 'local');
      const call = seen.find((request) => request.path === '/api/whoami');
      expect(call?.method).toBe('POST');
      expect(call?.secret).toBeUndefined();
    } finally {
      await started.close();
    }
  });

  it('with secretToken the secret is sent, and there is no such warning', async () => {
    seen = [];
    const started = await startHttp({ path: `${origin}/manifest.json`, secretToken: apiSecret });
    try {
      expect(warnings(started.log).some((message) => message.includes(noSecretWarning))).toBe(false);
      // Loopback over plain http is fine.
      expect(warnings(started.log).some((message) => message.includes(plainHttpWarning))).toBe(false);
      await tokenOf(started.toolport, 'local');
      expect(seen.find((request) => request.path === '/api/whoami')?.secret).toBe(apiSecret);
      // The secret is never logged.
      expect(JSON.stringify(started.log.records)).not.toContain(apiSecret);
    } finally {
      await started.close();
    }
  });

  it('an API origin that is plain http on a non-loopback host gets a warning (loading only)', async () => {
    const started = await startHttp({ path: `${origin}/manifest-remote-http.json`, secretToken: apiSecret });
    try {
      expect(started.toolport.listTools().map((tool) => tool.name)).toEqual(['promises__whoami']);
      const record = started.log.records.find((item) => item.msg.includes(plainHttpWarning));
      expect(record?.level).toBe(40);
      expect(record?.origin).toBe('http://example.invalid');
      expect(JSON.stringify(started.log.records)).not.toContain(apiSecret);
    } finally {
      await started.close();
    }
  });

  it('an https API origin on a non-loopback host gets no plain-http warning', async () => {
    const started = await startHttp({ path: `${origin}/manifest-remote-https.json`, secretToken: apiSecret });
    try {
      expect(started.toolport.listTools().map((tool) => tool.name)).toEqual(['promises__whoami']);
      expect(warnings(started.log).some((message) => message.includes(plainHttpWarning))).toBe(false);
    } finally {
      await started.close();
    }
  });

  it('adversarial: a DNS name that only starts with "127." is not loopback, and gets the warning', async () => {
    const started = await startHttp({ path: `${origin}/manifest-127-name.json`, secretToken: apiSecret });
    try {
      expect(started.toolport.listTools().map((tool) => tool.name)).toEqual(['promises__whoami']);
      expect(warnings(started.log).some((message) => message.includes(plainHttpWarning))).toBe(true);
    } finally {
      await started.close();
    }
  });
});

describe('http promises: the relationship key file', () => {
  const scratch = useTempDir('toolport-promises-rel-', 'all');

  it('tokens are stable across restarts with http/relationship.key; deleting it gives every principal a new token', async () => {
    const stateDir = join(scratch.path, 'state');
    const keyFile = join(stateDir, 'http', 'relationship.key');
    const plugin = { path: `${origin}/manifest.json`, secretToken: apiSecret };
    const principals = ['local', 'alice', 'bob'];
    const tokensOf = async (started: Started): Promise<string[]> => {
      const tokens: string[] = [];
      for (const principal of principals) tokens.push(await tokenOf(started.toolport, principal));
      return tokens;
    };

    const first = await startHttp(plugin, stateDir);
    let original: string[];
    try {
      original = await tokensOf(first);
    } finally {
      await first.close();
    }
    expect(new Set(original).size).toBe(principals.length);
    // The key is a file in the state folder, private to the user.
    const key = await readFile(keyFile, 'utf8');
    expect(key.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect((await lstat(keyFile)).mode & 0o077).toBe(0);
    // The tokens the API receives are not the key.
    expect(original).not.toContain(key.trim());

    const again = await startHttp(plugin, stateDir);
    try {
      expect(await tokensOf(again)).toEqual(original);
    } finally {
      await again.close();
    }
    expect(await readFile(keyFile, 'utf8')).toBe(key);

    await rm(keyFile);
    const renewed = await startHttp(plugin, stateDir);
    let fresh: string[];
    try {
      fresh = await tokensOf(renewed);
    } finally {
      await renewed.close();
    }
    for (const [index, token] of fresh.entries()) expect(token, principals[index]).not.toBe(original[index]);
    expect(new Set(fresh).size).toBe(principals.length);
    const newKey = await readFile(keyFile, 'utf8');
    expect(newKey.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(newKey).not.toBe(key);

    // And the new tokens are stable from then on.
    const afterwards = await startHttp(plugin, stateDir);
    try {
      expect(await tokensOf(afterwards)).toEqual(fresh);
    } finally {
      await afterwards.close();
    }
  });
});
