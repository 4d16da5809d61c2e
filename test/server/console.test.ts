// The web console on the admin listener, in a real headless Chromium (the Debian `chromium`
// package, driven by puppeteer-core; never a downloaded browser): sign in with the admin
// token, see a call a real MCP client is waiting on, approve it and the client gets its
// result; the live view shows the call and its audit record; plugins and tools are listed.
// A wrong token and a cross-site form are refused. Screenshots go to test-artifacts/console/.
// The CSRF and Origin checks are also tested without a browser, each on its own.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/client';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { adminUrlOf, decideApproval, waitForPending } from '../helpers/admin.js';
import { connectClient, repoRoot, serveConfig, type ConfiguredServer } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';

const shop = fileURLToPath(new URL('../fixtures/policy/shop.mjs', import.meta.url));
const adminToken = 'console-admin-token-0001';
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser', process.env.CHROMIUM_PATH ?? ''].find((path) => path !== '' && existsSync(path));
const artifacts = join(repoRoot, 'test-artifacts', 'console');

let server: ConfiguredServer;
let admin: string;

beforeAll(async () => {
  server = await serveConfig((dir) => [
    'approvals:',
    '  timeoutSeconds: 60',
    `  admin: { token: "${adminToken}", port: 0 }`,
    'audit: { path: ./audit.jsonl }',
    'plugins:',
    `  - path: ${shop}`,
    `    settings: { ledger: ${JSON.stringify(join(dir, 'ledger.txt'))} }`,
  ]);
  admin = adminUrlOf(server);
});

afterAll(async () => {
  await server?.stop();
});

/** An element's text, for page.$eval (the DOM's types are not in this project's lib). */
const elementText = (element: unknown): string => (element as { textContent: string | null }).textContent ?? '';

/** Signs in without a browser; returns the cookie header and the page's CSRF token. */
async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${admin}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: admin },
    body: new URLSearchParams({ token: adminToken }),
  });
  expect(response.status).toBe(303);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const page = await (await fetch(`${admin}/`, { headers: { cookie } })).text();
  const csrf = /<meta name="csrf" content="([^"]+)">/.exec(page)?.[1];
  if (!csrf) throw new Error('the console page has no CSRF token');
  return { cookie, csrf };
}

describe('console requests without a browser', () => {
  it('the session cookie is HttpOnly and SameSite=Strict; a wrong token gets none', async () => {
    const response = await fetch(`${admin}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: admin },
      body: new URLSearchParams({ token: adminToken }),
    });
    expect(response.headers.get('set-cookie')).toMatch(/^toolport_console=[\w-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
    const wrong = await fetch(`${admin}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: admin },
      body: new URLSearchParams({ token: 'console-admin-token-0002' }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    // A sign-in posted from another origin is refused even with the right token.
    const crossSite = await fetch(`${admin}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://127.0.0.1:1' },
      body: new URLSearchParams({ token: adminToken }),
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('set-cookie')).toBeNull();
  });

  it('a state-changing request with the cookie needs its CSRF token and this origin; with both it works', async () => {
    const { cookie, csrf } = await signIn();
    const client = await connectClient('http-2025', { url: server.url });
    try {
      const call = client.callTool({ name: 'shop__order', arguments: { item: 'csrf test' } });
      const id = await waitForPending(admin, adminToken);
      const post = (headers: Record<string, string>, body: Record<string, string>): Promise<Response> =>
        fetch(`${admin}/approvals/${id}/approve`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
          body: new URLSearchParams(body),
        });
      expect((await post({ origin: 'http://127.0.0.1:1' }, { csrf, scope: 'once' })).status).toBe(403);
      expect((await post({ origin: 'http://evil.example' }, { csrf, scope: 'once' })).status).toBe(403);
      expect((await post({ origin: admin }, { scope: 'once' })).status).toBe(403);
      expect((await post({ origin: admin }, { csrf: `${csrf}x`, scope: 'once' })).status).toBe(403);
      expect((await post({ 'sec-fetch-site': 'cross-site' }, { csrf, scope: 'once' })).status).toBe(403);
      // Still waiting after all of those; the right request releases it.
      expect(await waitForPending(admin, adminToken)).toBe(id);
      expect((await post({ origin: admin }, { csrf, scope: 'once' })).status).toBe(303);
      expect(textOf(await call)).toBe('ordered 1 csrf test');
    } finally {
      await client.close();
    }
  });

  it('arguments are shown escaped (markup in them is text, not HTML) and redacted, under a policy that allows no other origin', async () => {
    const { cookie } = await signIn();
    const client = await connectClient('http-2025', { url: server.url });
    try {
      const call = client.callTool({ name: 'shop__order', arguments: { item: '<script>alert(1)</script><img src=x onerror=alert(2)>', api_key: 'sk-never-on-the-page' } });
      const id = await waitForPending(admin, adminToken);
      const response = await fetch(`${admin}/`, { headers: { cookie } });
      // Nothing but the listener's own scripts, styles and requests, and no framing.
      expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
      expect(response.headers.get('content-security-policy')).not.toMatch(/https?:|\*|'unsafe-inline'|'unsafe-eval'/);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      const page = await response.text();
      // A value under a secret-looking key is redacted, without a browser too.
      expect(page).toContain('[redacted]');
      expect(page).not.toContain('sk-never-on-the-page');
      expect(page).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
      expect(page).not.toContain('<script>alert');
      expect(page).not.toContain('<img src=x');
      // The only script a page loads is the console's own.
      expect([...page.matchAll(/<script\b[^>]*>/g)].map((match) => match[0])).toEqual(['<script src="/console.js">']);
      expect((await decideApproval(admin, adminToken, id, 'reject')).status).toBe(200);
      expect((await call).isError).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('pages need a session; the cookie of a signed-out session no longer works', async () => {
    const { cookie, csrf } = await signIn();
    expect(await (await fetch(`${admin}/plugins`, { headers: { cookie } })).text()).toContain('shop__order');
    expect(await (await fetch(`${admin}/plugins`)).text()).toContain('Sign in');
    expect((await fetch(`${admin}/calls/events`)).status).toBe(401);
    const out = await fetch(`${admin}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: admin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf }) });
    expect(out.status).toBe(303);
    expect(await (await fetch(`${admin}/plugins`, { headers: { cookie } })).text()).toContain('Sign in');
    // Host checks as on /mcp: a rebinding name is refused.
    const rebound = await new Promise<number | undefined>((resolve, reject) => {
      get(`${admin}/`, { headers: { host: 'attacker.example' } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      }).on('error', reject);
    });
    expect(rebound).toBe(403);
  });
});

describe.skipIf(!chromium)(`the console in headless Chromium${chromium ? '' : ' (skipped: no chromium at /usr/bin/chromium; apt-get install chromium)'}`, () => {
  let browser: Browser;
  let page: Page;
  const profile = useTempDir('toolport-chromium-', 'all');

  beforeAll(async () => {
    await mkdir(artifacts, { recursive: true });
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      userDataDir: profile.path,
      // As root (CI containers), Chromium's own sandbox cannot start.
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-gpu', '--no-first-run', '--no-default-browser-check'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 680 });
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => process.stderr.write(`page error: ${String(error)}\n`));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('refuses a wrong token', async () => {
    await page.goto(`${admin}/`);
    await page.screenshot({ path: join(artifacts, 'signin.png') });
    await page.type('input[name=token]', 'not-the-admin-token-at-all');
    const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(response?.status()).toBe(401);
    expect(await page.$eval('.error', elementText)).toContain('not the admin token');
    expect(await page.cookies()).toEqual([]);
  });

  it('signs in, shows the waiting call with secrets redacted, and approving it answers the MCP client', async () => {
    await page.type('input[name=token]', adminToken);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    const cookie = (await page.cookies()).find((entry) => entry.name === 'toolport_console');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.$eval('h1', elementText)).toBe('Approvals');

    const client: Client = await connectClient('http-2025', { url: server.url });
    try {
      const call = client.callTool({ name: 'shop__order', arguments: { item: 'console burger', count: 2, api_key: 'sk-console-should-not-show' } });
      // The page notices the new call by itself (it polls the inbox) and shows it.
      await page.waitForSelector('section.approval');
      const card = await page.$eval('section.approval', elementText);
      expect(card).toContain('shop__order');
      expect(card).toContain('console burger');
      expect(card).toContain('[redacted]');
      expect(card).not.toContain('sk-console-should-not-show');
      expect(card).toContain('anonymous');
      expect(card).toMatch(/expires in \d+ s/);
      await page.screenshot({ path: join(artifacts, 'approvals.png') });

      await Promise.all([page.waitForNavigation(), page.click('section.approval button.approve')]);
      const result = await call;
      expect(textOf(result)).toBe('ordered 2 console burger');
      expect(await page.$('section.approval')).toBeNull();
    } finally {
      await client.close();
    }
  });

  it('the live view shows the call and opens its audit record', async () => {
    await page.goto(`${admin}/calls`);
    const row = 'tr.call[data-tool="shop__order"][data-outcome="ok"]';
    await page.waitForSelector(row);
    // A call made while the page is open arrives over the stream.
    const client = await connectClient('http-2025', { url: server.url });
    try {
      await client.callTool({ name: 'shop__menu', arguments: {} });
    } finally {
      await client.close();
    }
    await page.waitForSelector('tr.call[data-tool="shop__menu"][data-outcome="ok"]');
    await page.type('#f-tool', 'order');
    expect(await page.$eval('tr.call[data-tool="shop__menu"]', (el) => (el as unknown as { hidden: boolean }).hidden)).toBe(true);
    await page.click(row);
    await page.waitForFunction(`document.querySelector('#detail pre')?.textContent?.includes('"outcome": "ok"')`);
    const record = JSON.parse((await page.$eval('#detail pre', elementText)) ?? '{}') as Record<string, unknown>;
    expect(record).toMatchObject({ tool: 'shop__order', plugin: 'shop', decision: 'ask', channel: 'inbox', approver: 'admin (console)', outcome: 'ok' });
    await page.screenshot({ path: join(artifacts, 'calls.png') });
  });

  it('lists plugins and tools with the policy decision per principal', async () => {
    await page.goto(`${admin}/plugins`);
    const text = await page.$eval('section.plugin[data-plugin="shop"]', elementText);
    expect(text).toContain('module');
    expect(text).toContain(shop);
    expect(text).toMatch(/grants\s*none/);
    expect(await page.$eval('tr.tool[data-tool="shop__menu"]', elementText)).toMatch(/local:\s*allow/);
    expect(await page.$eval('tr.tool[data-tool="shop__order"]', elementText)).toMatch(/local:\s*ask/);
    expect(await page.$eval('tr.tool[data-tool="shop__secret_recipe"]', elementText)).toContain('not granted READ_RECIPES (set plugins[0].grants.permissions');
    await page.screenshot({ path: join(artifacts, 'plugins.png'), fullPage: true });
  });

  it('a cross-site form that posts an approval with the session cookie is refused', async () => {
    const client = await connectClient('http-2025', { url: server.url });
    const attacker = createServer();
    try {
      const call = client.callTool({ name: 'shop__order', arguments: { item: 'forged' } });
      const id = await waitForPending(admin, adminToken);
      attacker.on('request', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' }).end(
          `<form id="f" method="post" action="${admin}/approvals/${id}/approve"><input name="scope" value="once"></form><script>document.getElementById('f').submit()</script>`,
        );
      });
      // Same host, another port: the browser sends the SameSite=Strict cookie (same site), so the Origin and CSRF checks are what stop it.
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      const attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
      const forged = page.waitForResponse((response) => response.url() === `${admin}/approvals/${id}/approve`);
      await page.goto(attackerUrl);
      // 403, not 401: the cookie came along, and the Origin and CSRF checks refused the request.
      expect((await forged).status()).toBe(403);
      expect(await waitForPending(admin, adminToken)).toBe(id);
      expect((await decideApproval(admin, adminToken, id, 'reject', { reason: 'forged' })).status).toBe(200);
      expect((await call).isError).toBe(true);
    } finally {
      attacker.closeAllConnections();
      attacker.close();
      await client.close();
    }
  });
});
