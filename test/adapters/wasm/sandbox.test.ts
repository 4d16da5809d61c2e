// The WASI sandbox, deny-by-default: environment variables, preopened folders (read-only
// enforced by toolport, no escapes) and network are closed without a grant, and open
// exactly as far as the grant says. Probed from inside a real guest (the kitchen fixture).
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '../../helpers/temp-dir.js';
import { kitchenWasm, resultOf, startToolport, textOf, type TestToolport } from './helpers.js';

let closed: TestToolport;
let open: TestToolport;
const readOnly = useTempDir('toolport-ro-', 'all');
const writable = useTempDir('toolport-rw-', 'all');
const outside = useTempDir('toolport-outside-', 'all');
let http: Server;
let url: string;

beforeAll(async () => {
  await writeFile(join(readOnly.path, 'menu.txt'), 'croissant, 2.50');
  await writeFile(join(outside.path, 'secret.txt'), 'not for plugins');
  http = createServer((_request, response) => response.end('hello from the host'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  process.env.TOOLPORT_SANDBOX_GRANTED = 'yes';
  process.env.TOOLPORT_SANDBOX_SECRET = 'hidden';
  [closed, open] = await Promise.all([
    // With an admin listener configured, the toolport keeps metrics (sandbox refusals among them).
    startToolport([{ path: kitchenWasm, timeoutSeconds: 60 }], { config: { approvals: { admin: { token: 'sandbox-admin-token-01', port: 0 } } } }),
    startToolport([
      {
        path: kitchenWasm,
        timeoutSeconds: 60,
        grants: {
          env: ['TOOLPORT_SANDBOX_GRANTED'],
          // A relative folder (against the working directory) appears under `/` + its path.
          files: { [readOnly.path]: 'ro', [writable.path]: 'rw', './test/fixtures/wasm/scalars': 'ro' },
          network: true,
        },
      },
    ]),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([closed?.close(), open?.close()]);
  await new Promise((resolve) => http?.close(resolve));
  delete process.env.TOOLPORT_SANDBOX_GRANTED;
  delete process.env.TOOLPORT_SANDBOX_SECRET;
});

describe('wasm sandbox: environment', () => {
  it('is empty without a grant, and the host working directory is not shown', async () => {
    expect((await closed.call('kitchen__wasi-env')).structuredContent).toEqual({ result: [] });
    expect((await closed.call('kitchen__wasi-cwd')).structuredContent).toEqual({ result: null });
  });

  it('holds exactly the granted variables', async () => {
    expect((await open.call('kitchen__wasi-env')).structuredContent).toEqual({ result: [['TOOLPORT_SANDBOX_GRANTED', 'yes']] });
  });
});

describe('wasm sandbox: files', () => {
  it('no folder is preopened without a grant', async () => {
    expect((await closed.call('kitchen__list-dirs')).structuredContent).toEqual({ result: [] });
    const result = await closed.call('kitchen__read-file', { path: `${readOnly.path}/menu.txt` });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('no preopened folder holds');
  });

  it('granted folders appear under their absolute paths; relative ones under / + their path', async () => {
    const dirs = resultOf(await open.call('kitchen__list-dirs')) as string[];
    expect([...dirs].sort()).toEqual([readOnly.path, writable.path, '/test/fixtures/wasm/scalars'].sort());
    const wit = await open.call('kitchen__read-file', { path: '/test/fixtures/wasm/scalars/scalars.wit' });
    expect(textOf(wit)).toContain('package toolport:scalars@1.0.0;');
  });

  it('a read-only folder can be read but not written', async () => {
    expect(textOf(await open.call('kitchen__read-file', { path: `${readOnly.path}/menu.txt` }))).toBe('croissant, 2.50');
    const write = await open.call('kitchen__write-file', { path: `${readOnly.path}/menu.txt`, content: 'changed' });
    expect(write.isError).toBe(true);
    expect(textOf(write)).toContain('read-only');
    const create = await open.call('kitchen__write-file', { path: `${readOnly.path}/new.txt`, content: 'new' });
    expect(create.isError).toBe(true);
    expect(await readFile(join(readOnly.path, 'menu.txt'), 'utf8')).toBe('croissant, 2.50');
    await expect(readFile(join(readOnly.path, 'new.txt'))).rejects.toThrow();
  });

  it('a read-write folder can be written', async () => {
    const write = await open.call('kitchen__write-file', { path: `${writable.path}/order.txt`, content: 'two croissants' });
    expect(write.isError).toBeFalsy();
    expect(await readFile(join(writable.path, 'order.txt'), 'utf8')).toBe('two croissants');
    expect(textOf(await open.call('kitchen__read-file', { path: `${writable.path}/order.txt` }))).toBe('two croissants');
  });

  it('paths cannot escape a granted folder', async () => {
    const result = await open.call('kitchen__read-file', { path: `${readOnly.path}/../${outside.path.split('/').pop() ?? ''}/secret.txt` });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('not-permitted');
  });
});

describe('wasm sandbox: network', () => {
  it('outgoing HTTP is denied without a grant, and the metrics count the refusal', async () => {
    const refusals = async (): Promise<string | undefined> =>
      /^toolport_sandbox_refusals_total\{plugin="kitchen"\} (\d+)$/m.exec((await closed.toolport.telemetry.metrics?.text()) ?? '')?.[1];
    expect(await refusals()).toBeUndefined();
    const result = await closed.call('kitchen__fetch-text', { url });
    expect(result.isError).toBe(true);
    expect(textOf(result)).not.toContain('hello from the host');
    // The worker reports the refusal by message; it arrives with (or just after) the reply.
    for (let attempt = 0; attempt < 100 && (await refusals()) === undefined; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await refusals()).toBe('1');
  });

  it('outgoing HTTP works with network: true', async () => {
    const result = await open.call('kitchen__fetch-text', { url });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('200 hello from the host');
  });
});
