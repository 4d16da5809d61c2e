// The python kind end to end: the built CLI serving ScaiWave plugins, driven by a real
// MCP client over stdio, Streamable HTTP (2025 and 2026 eras) and legacy SSE.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '../../helpers/temp-dir.js';
import { allTransports, connectClient, startHttpServer, type Era, type RunningServer } from '../../helpers/toolport-process.js';
import { livePythonHosts } from './python-hosts.js';
import { bwrapWorks, needsBwrap } from '../../helpers/sandbox.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/python/${name}`, import.meta.url));
const serveArgs = [fixture('weather.py'), fixture('skills.py')];

type ToolResult = Awaited<ReturnType<Client['callTool']>>;

function textOf(result: ToolResult): string {
  return (result.content as { type: string; text?: string }[]).map((block) => block.text ?? '').join('\n');
}

// The server is given plugin paths, so its plugins run in the default sandbox.
describe.skipIf(!bwrapWorks)(`python plugins through a real MCP client${needsBwrap}`, () => {
  let http: RunningServer;
  const dir = useTempDir('toolport-python-e2e-', 'all');
  // Skills installed while serving are new tools of a pinned plugin: served with a warning
  // here (quarantined by default; see test/policy/pins.test.ts).
  const dynamicArgs: string[] = [];

  beforeAll(async () => {
    await writeFile(join(dir.path, 'toolport.yaml'), `pins: { onNewTool: warn }\nplugins:\n${serveArgs.map((path) => `  - path: ${path}\n`).join('')}`);
    dynamicArgs.push('--config', join(dir.path, 'toolport.yaml'));
    http = await startHttpServer(dynamicArgs);
  });

  afterAll(async () => {
    await http?.stop();
  });

  describe.each(allTransports)('over %s', (era: Era) => {
    let client: Client;
    const changes: string[][] = [];

    beforeAll(async () => {
      client = await connectClient(era, era === 'stdio' ? { serveArgs: dynamicArgs } : { url: http.url }, {
        // Side-effect tools ask for approval; this client's user approves every prompt.
        capabilities: { elicitation: { form: {} } },
        listChanged: { tools: { debounceMs: 0, onChanged: (_error, tools) => void changes.push((tools ?? []).map((tool) => tool.name)) } },
      });
      client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { decision: 'once' } }));
    });

    afterAll(async () => {
      await client?.close();
    });

    it('lists the tools with their schemas, annotations and origin', async () => {
      const { tools } = await client.listTools();
      const forecast = tools.find((tool) => tool.name === 'acme_weather__forecast');
      expect(forecast?.inputSchema).toMatchObject({ type: 'object', required: ['city'] });
      expect(forecast?.annotations).toMatchObject({ readOnlyHint: true });
      expect(tools.find((tool) => tool.name === 'acme_weather__set_home')?.annotations).toMatchObject({ destructiveHint: true });
      expect(tools.map((tool) => tool.name)).toContain('acme_skills__install_skill');
    });

    it('calls a tool with non-ASCII text both ways', async () => {
      const result = await client.callTool({ name: 'acme_weather__forecast', arguments: { city: 'München', days: 2 } });
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toBe('München: Schnee ❄ for 2 day(s) (args was a str)');
    });

    it('an exception in the plugin is an isError result', async () => {
      const result = await client.callTool({ name: 'acme_weather__explode', arguments: {} });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe('ValueError: Wetterdienst nicht erreichbar — try later');
    });

    it('a plugin that prints does not disturb the connection', async () => {
      const result = await client.callTool({ name: 'acme_weather__chatty', arguments: {} });
      expect(textOf(result)).toBe('said a lot');
      const next = await client.callTool({ name: 'acme_weather__forecast', arguments: { city: 'Tokyo' } });
      expect(textOf(next)).toContain('晴れ');
    });

    it("the plugin's system context reaches the server instructions", () => {
      const instructions = client.getInstructions();
      expect(instructions).toContain('## Weather\nWeather knows 3 cities.');
      if (era !== 'http-2026') expect(instructions).toContain('You are talking to toolport-test');
    });

    it('usage hints and the system context are offered as prompts', async () => {
      const { prompts } = await client.listPrompts();
      const forecast = prompts.find((prompt) => prompt.name === 'acme_weather__forecast');
      expect(forecast?.arguments).toEqual([
        { name: 'city', description: 'City name.', required: true },
        { name: 'days', required: false },
      ]);
      expect(prompts.map((prompt) => prompt.name)).toContain('acme_weather__context');
      const rendered = await client.getPrompt({ name: 'acme_weather__forecast', arguments: { city: 'Tokyo' } });
      expect(rendered.messages[0]?.content).toEqual({
        type: 'text',
        text: 'Use the tool `acme_weather__forecast` (Forecast for a city.) with these arguments:\n- city: Tokyo',
      });
      const context = await client.getPrompt({ name: 'acme_weather__context', arguments: {} });
      expect(context.messages[0]?.content).toMatchObject({ type: 'text' });
      expect(JSON.stringify(context.messages[0]?.content)).toContain('Weather knows 3 cities.');
    });

    it.runIf(era === 'http-2025' || era === 'http-2026')('a call the client cancels is cancelled inside Python (checked on HTTP, where the test reads the server log)', async () => {
      const controller = new AbortController();
      const tag = `cancel-${era}`;
      setTimeout(() => controller.abort(), 300);
      await expect(client.callTool({ name: 'acme_weather__slow', arguments: { seconds: 20, tag } }, { signal: controller.signal })).rejects.toThrow();
      await expect.poll(() => http.stderr().includes(`slow ${tag} was cancelled`), { timeout: 5_000 }).toBe(true);
    });

    it('dynamic tools appear with tools/list_changed and can be called', async () => {
      const skill = `skill_${era.replace(/-/g, '_')}`;
      const installed = await client.callTool({ name: 'acme_skills__install_skill', arguments: { name: era.replace(/-/g, '_'), reply: 'done' } });
      expect(textOf(installed)).toBe(`installed ${skill}`);
      await expect.poll(() => changes.some((names) => names.includes(`acme_skills__${skill}`)), { timeout: 10_000 }).toBe(true);
      const result = await client.callTool({ name: `acme_skills__${skill}`, arguments: { question: 'ok?' } });
      expect(textOf(result)).toBe('done (ok?)');
    });
  });
});

describe.skipIf(!bwrapWorks)(`python system context on a 2026-07-28 stdio connection${needsBwrap}`, () => {
  it('reaches the instructions from server/discover', async () => {
    const client = await connectClient('stdio-modern', { serveArgs });
    try {
      expect(client.getInstructions()).toContain('## Weather\nWeather knows 3 cities. You are talking to local in local.');
    } finally {
      await client.close();
    }
  });
});

describe.skipIf(!bwrapWorks)(`python hosts outlive nothing${needsBwrap}`, () => {
  it('a host whose toolport was killed exits by itself, even with a call in flight', async () => {
    const server = await startHttpServer([fixture('contract.py')]);
    const pid = server.process.pid ?? -1;
    // With a load cache the host may still be starting behind the listed tools. It is three
    // processes: bwrap, its init and the host.
    await expect.poll(async () => (await livePythonHosts(pid)).length, { timeout: 10_000 }).toBe(3);
    const hosts = await livePythonHosts(pid);
    const client = await connectClient('http-2025', { url: server.url });
    // Never answered: the server dies under it.
    void client.callTool({ name: 'contract__hang', arguments: { marker: '/dev/null' } }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.process.kill('SIGKILL');
    await server.stop();
    await expect.poll(() => hosts.filter((host) => existsSync(`/proc/${host}`)), { timeout: 5_000 }).toEqual([]);
    void client.close().catch(() => undefined);
  });
});
