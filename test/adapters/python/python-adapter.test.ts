// The python kind in-process, with a real python3: manifest mapping, calls, errors,
// cancellation, crashes, permissions, context fields, packages and dynamic tools.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCode, isToolportError } from '../../../src/core/errors.js';
import { pino } from 'pino';
import type { Logger } from '../../../src/core/logger.js';
import { useTempDir } from '../../helpers/temp-dir.js';
import { callTool } from '../../helpers/call-tool.js';
import { createToolport, type ToolCallOptions, type Toolport } from '../../../src/toolport.js';
import { hostRootPid, liveInterpreters, livePythonHosts, sandboxForTests } from './python-hosts.js';
import { bwrapWorks, needsBwrap } from '../../helpers/sandbox.js';
import { pidsWithMarker, waitFor as waitForProcesses } from '../../helpers/processes.js';

/** Diagnostics that are problems: not the info line saying how a plugin runs, nor the warning of sandbox: off. */
function problemsOf(toolport: Toolport): Toolport['diagnostics'] {
  return toolport.diagnostics.filter((diagnostic) => diagnostic.level !== 'info' && !diagnostic.message.includes(': sandbox: off'));
}

/** The pid (as this machine numbers it) of the one Python host this test process runs (a host being replaced may linger a moment). */
async function hostPid(): Promise<number> {
  const pids = await waitForProcesses(() => liveInterpreters(), (found) => found.length === 1, 3_000);
  expect(pids).toHaveLength(1);
  return pids[0] as number;
}

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/python/${name}`, import.meta.url));

async function settle(toolport: Toolport, name: string, args: unknown = {}, options: ToolCallOptions = {}): Promise<CallToolResult> {
  return callTool(toolport, name, args, options);
}

function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 5_000): Promise<T | undefined> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return undefined;
}

async function readIfThere(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A logger that keeps every record, to check what reached the log (and what did not). */
function createCapturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

describe('python adapter: a plugin in the documented ScaiWave shape', () => {
  let toolport: Toolport;
  const scratch = useTempDir('toolport-python-', 'all');
  const captured = createCapturingLogger();

  beforeAll(async () => {
    process.env.WEATHER_API_KEY = 'sk-weather-0123456789';
    process.env.NOT_GRANTED_SECRET = 'do-not-pass-me';
    const config = parseConfig({
      plugins: [
        {
          path: fixture('weather.py'),
          timeoutSeconds: 3,
          settings: { locale: 'nl' },
          tenant: { id: 'acme-corp' },
          grants: { env: ['WEATHER_API_KEY'], files: { [scratch.path]: 'rw' } },
          ...sandboxForTests,
        },
      ],
      // With an admin listener configured, the toolport keeps metrics (plugin restarts among them).
      approvals: { admin: { token: 'python-admin-token-0001', port: 0 } },
    });
    toolport = await createToolport(config, { logger: captured.logger });
    expect(problemsOf(toolport)).toEqual([]);
  });

  afterAll(async () => {
    await toolport?.close();
    delete process.env.WEATHER_API_KEY;
    delete process.env.NOT_GRANTED_SECRET;
  });

  it('maps the manifest: id prefix, schema verbatim, side effects, permissions, usage', () => {
    const byName = new Map(toolport.listTools().map((tool) => [tool.name, tool.mcpTool]));
    const forecast = byName.get('acme_weather__forecast');
    expect(forecast?.inputSchema).toEqual({
      type: 'object',
      properties: {
        city: { type: 'string', description: 'City name.' },
        days: { type: 'integer', minimum: 1, maximum: 7 },
      },
      required: ['city'],
    });
    expect(forecast?.description).toBe('Forecast for a city.');
    expect(forecast?.annotations).toEqual({ readOnlyHint: true });
    expect(forecast?._meta?.['toolport/scaiwave']).toEqual({ plugin: 'acme.weather', usage: '[/forecast <city> [days]]', scope: 'private' });

    const setHome = byName.get('acme_weather__set_home');
    expect(setHome?.annotations).toEqual({ readOnlyHint: false, destructiveHint: true });

    const radar = byName.get('acme_weather__radar');
    expect(radar?._meta?.['toolport/origin']).toMatchObject({ permissions: ['EXTERNAL_HTTP'] });
    expect(radar?._meta?.['toolport/scaiwave']).toMatchObject({ missingGrants: ['EXTERNAL_HTTP'] });
    expect(radar?.annotations).toMatchObject({ openWorldHint: true });
  });

  it('passes the arguments as a JSON string and returns the string result as text', async () => {
    const result = await settle(toolport, 'acme_weather__forecast', { city: 'Tokyo', days: 2 });
    expect(result.isError).toBeUndefined();
    expect(textOf(result)).toBe('Tokyo: 晴れ for 2 day(s) (args was a str)');
  });

  it('keeps non-ASCII text intact both ways', async () => {
    const result = await settle(toolport, 'acme_weather__forecast', { city: 'München' });
    expect(textOf(result)).toBe('München: Schnee ❄ for 1 day(s) (args was a str)');
  });

  it('a returned "Fallback suggestions" line is a failure the model can act on', async () => {
    const result = await settle(toolport, 'acme_weather__forecast', { city: 'Atlantis' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('No forecast for Atlantis.\nFallback suggestions: `web_search` for the weather there.');
  });

  it('an exception is an isError result with its type and message; the traceback goes to the log only', async () => {
    const result = await settle(toolport, 'acme_weather__explode');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('ValueError: Wetterdienst nicht erreichbar — try later');
    expect(textOf(result)).not.toMatch(/Traceback|File "/);
    expect(captured.lines.some((line) => line.includes('Traceback') && line.includes('weather.py'))).toBe(true);
  });

  it('a long answer (8 MB) and a long argument come through whole', async () => {
    const started = Date.now();
    const result = await settle(toolport, 'acme_weather__big', { size: 8_000_000 });
    const text = textOf(result);
    expect(text.length).toBe(8_000_000);
    expect(text.slice(0, 3)).toBe('äxx');
    const echoed = await settle(toolport, 'acme_weather__forecast', { city: 'Tokyo'.padEnd(2_000_000, '.') });
    expect(textOf(echoed)).toContain('Fallback suggestions');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('several calls run at once in one host', async () => {
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 5 }, () => settle(toolport, 'acme_weather__slow', { seconds: 0.6 })));
    for (const result of results) expect(textOf(result)).toBe('slept 0.6');
    // One after the other would take 3 s.
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('twenty calls in flight get their own answers, without listener-leak warnings', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const cities = Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? 'Tokyo' : 'Amsterdam'));
      const results = await Promise.all(cities.map((city) => settle(toolport, 'acme_weather__forecast', { city })));
      results.forEach((result, index) => expect(textOf(result)).toContain(cities[index]));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('print() and raw writes to stdout do not reach the RPC channel; they go to the log', async () => {
    const result = await settle(toolport, 'acme_weather__chatty');
    expect(result.isError).toBeUndefined();
    expect(textOf(result)).toBe('said a lot');
    const next = await settle(toolport, 'acme_weather__forecast', { city: 'Amsterdam' });
    expect(textOf(next)).toContain('rain');
    expect(await waitFor(() => (captured.lines.some((line) => line.includes('plain text from print()')) ? true : undefined))).toBe(true);
    expect(captured.lines.some((line) => line.includes('forged') && line.includes('stdout'))).toBe(true);
  });

  it('a cancelled slow tool is cancelled inside Python (CancelledError reaches the plugin)', async () => {
    const marker = join(scratch.path, 'cancelled');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const error = await toolport.call('acme_weather__slow', { seconds: 30, marker }, { signal: controller.signal }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isToolportError(error) && error.code).toBe(ErrorCode.CallCancelled);
    expect(await waitFor(() => readIfThere(marker))).toBe('cancelled');
  });

  it('a tool past its timeout is cancelled inside Python too', async () => {
    const marker = join(scratch.path, 'timed-out');
    const result = await settle(toolport, 'acme_weather__slow', { seconds: 30, marker });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/timed out after 3 s/);
    expect(await waitFor(() => readIfThere(marker))).toBe('cancelled');
  });

  it('a tool that blocks the event loop cannot be cancelled: the host is replaced, the next call works', async () => {
    expect((await settle(toolport, 'acme_weather__pid')).isError).toBeUndefined();
    const before = await hostPid();
    const root = await hostRootPid();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await toolport.call('acme_weather__block', { seconds: 60 }, { signal: controller.signal }).catch(() => undefined);
    // The grace period for the cancellation is 2 s; then the host is killed. The process
    // toolport started (bwrap, in the sandbox) goes last: then toolport knows.
    const gone = await waitFor(() => (existsSync(`/proc/${before}`) || existsSync(`/proc/${root}`) ? undefined : true), 6_000);
    expect(gone).toBe(true);
    const after = await settle(toolport, 'acme_weather__pid');
    expect(after.isError).toBeUndefined();
    expect(await hostPid()).not.toBe(before);
  });

  it('a host killed mid-call fails that call cleanly, and the next call works (a restart the metrics count)', async () => {
    const restarts = async (): Promise<number> =>
      Number(/^toolport_plugin_restarts_total\{plugin="acme\.weather"\} (\d+)$/m.exec((await toolport.telemetry.metrics?.text()) ?? '')?.[1] ?? 0);
    expect((await settle(toolport, 'acme_weather__pid')).isError).toBeUndefined();
    const restartsBefore = await restarts();
    const pid = await hostPid();
    const pending = settle(toolport, 'acme_weather__slow', { seconds: 10 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(pid, 'SIGKILL');
    const result = await pending;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/Python process was killed by SIGKILL during the call; it is restarted for the next call/);
    const next = await settle(toolport, 'acme_weather__forecast', { city: 'Tokyo' });
    expect(next.isError).toBeUndefined();
    expect(textOf(next)).toContain('晴れ');
    expect(await restarts()).toBe(restartsBefore + 1);
  });

  it('refuses a tool whose permissions are not granted, naming them and the config line', async () => {
    const result = await settle(toolport, 'acme_weather__radar');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      'acme_weather__radar was refused: plugin "acme.weather" declares EXTERNAL_HTTP, which the config does not grant ' +
        '(to allow it, set plugins[0].grants.network: true)',
    );
  });

  it('builds PluginContext from what toolport knows; only granted env reaches the plugin', async () => {
    const result = await settle(toolport, 'acme_weather__whoami', {}, { context: { sessionId: 'session-7', client: { name: 'claude-code', version: '2.0' } } });
    expect(JSON.parse(textOf(result))).toEqual({
      room_id: 'session-7',
      sender_id: 'claude-code',
      tenant_id: 'acme-corp',
      locale: 'nl',
      settings_get: 'default',
      user_token: null,
      db: null,
      redis: null,
      approval: true,
      events: true,
      granted_env: 'sk-weather-0123456789',
      other_env: null,
    });
  });

  it('without a session or client, room and sender are the principal', async () => {
    const result = await settle(toolport, 'acme_weather__whoami');
    expect(JSON.parse(textOf(result))).toMatchObject({ room_id: 'local', sender_id: 'local' });
  });

  it('an approval asked for from inside a tool asks the caller with a form; a caller that cannot be asked gets -32021', async () => {
    const forms: string[] = [];
    const client = {
      elicit: (params: { message: string }) => {
        forms.push(params.message);
        return Promise.resolve({ action: 'accept' as const, content: { approve: false, reason: 'not Paris' } });
      },
    };
    const result = await settle(toolport, 'acme_weather__ask_approval', {}, { client });
    expect(textOf(result)).toBe('approved=False reason=not Paris');
    expect(forms).toHaveLength(1);
    expect(forms[0]).toMatch(/^The plugin \S+ asks for approval: request_approval\nArguments: .*"city":"Paris"/);
    await expect(toolport.callTool('acme_weather__ask_approval', {})).rejects.toMatchObject({ code: -32021 });
  });

  it('events a plugin publishes reach the calling client as log messages', async () => {
    const sent: unknown[] = [];
    const result = await settle(toolport, 'acme_weather__announce', { text: 'sunny ☀' }, { log: (_level, data) => sent.push(data) });
    expect(textOf(result)).toBe('announced');
    expect(sent).toEqual([expect.objectContaining({ event: 'publish', args: ['weather.announced', { text: 'sunny ☀' }] })]);
  });

  it('granted secrets are redacted from error texts', async () => {
    const result = await settle(toolport, 'acme_weather__leak');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('RuntimeError: auth failed with key [redacted]');
  });
});

describe('python adapter: loading', () => {
  const hosts: Toolport[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((toolport) => toolport.close()));
  });
  const load = async (plugins: Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<Toolport> => {
    const toolport = await createToolport(parseConfig({ ...extra, plugins: plugins.map((plugin) => ({ ...sandboxForTests, ...plugin })) }));
    hosts.push(toolport);
    return toolport;
  };

  it('the host takes its load deadline from defaults.loadTimeoutSeconds (it was 30 s whatever the config said)', async () => {
    const { pythonAdapter } = await import('../../../src/adapters/python/index.js');
    const spec = pythonAdapter.spec.parse({ path: fixture('hangs_at_import.py'), kind: 'python', ...sandboxForTests });
    const scratch = await mkdtemp(join(tmpdir(), 'toolport-py-deadline-'));
    const logger = pino({ level: 'silent' });
    const started = Date.now();
    try {
      // No signal: only the adapter's own deadline bounds this load (as when a host restarts).
      const loading = pythonAdapter.load(spec, { baseDir: scratch, logger, stateDir: scratch, cacheDir: scratch, toolsChanged: () => {}, loadTimeoutMs: 1500 });
      await expect(loading).rejects.toThrow(/loading the plugin took longer than 1\.5 s \(does it block at import\?\)/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('a syntax error is a load error naming the file and line; other plugins still load', async () => {
    const toolport = await load([{ path: fixture('broken_syntax.py') }, { path: fixture('contract.py') }]);
    expect(problemsOf(toolport).map((diagnostic) => diagnostic.message)).toEqual([
      expect.stringMatching(/^plugins\[0\] .*broken_syntax\.py: SyntaxError at .*broken_syntax\.py:6: /),
    ]);
    const result = await settle(toolport, 'contract__echo', { text: 'unaffected' });
    expect(textOf(result)).toBe('echo: unaffected');
  });

  it('importing a ScaiWave module toolport does not provide (app.models) is a load error that says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'toolport-py-models-'));
    try {
      const plugin = join(dir, 'uses_models.py');
      await writeFile(plugin, 'from app.models import Conversation  # ScaiWave-internal\nfrom app.plugins.base import BasePlugin\n\nclass P(BasePlugin):\n    pass\n');
      const toolport = await load([{ path: plugin }]);
      const messages = problemsOf(toolport).map((diagnostic) => diagnostic.message);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toContain('app.models');
      expect(messages[0]).toContain('(toolport provides only app.plugins.base and app.plugins.protocol of ScaiWave)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('get_dynamic_tools is asked every dynamicToolsRefreshSeconds without any call; with 0, only after a call', async () => {
    const source = [
      'import json, os',
      'from app.plugins.base import BasePlugin',
      'from app.plugins.protocol import PluginContext, PluginManifest, ToolDefinition',
      'HERE = os.path.dirname(os.path.abspath(__file__))',
      'class Dyn(BasePlugin):',
      '    @property',
      '    def manifest(self) -> PluginManifest:',
      '        return PluginManifest(id="dyn", name="Dyn", version="1.0.0", description="Tools named in a file.",',
      '            tools=[ToolDefinition(name="ping", description="Answers pong.", parameters={"type": "object", "properties": {}})])',
      '    async def get_dynamic_tools(self, ctx: PluginContext):',
      '        with open(os.path.join(HERE, "tools.json")) as f:',
      '            names = json.load(f)',
      '        return [{"name": n, "description": "Named in the file.", "parameters": {"type": "object", "properties": {}}} for n in names]',
      '    async def execute_tool(self, tool_name: str, args: str, ctx: PluginContext) -> str:',
      '        return "pong"',
      '',
    ].join('\n');
    const names = (toolport: Toolport): string[] => toolport.listTools().map((tool) => tool.name);
    const root = await mkdtemp(join(tmpdir(), 'toolport-py-dynamic-'));
    try {
      const folders = { timed: join(root, 'timed'), onCall: join(root, 'on-call') };
      for (const folder of Object.values(folders)) {
        await mkdir(folder);
        await writeFile(join(folder, 'dyn.py'), source);
        await writeFile(join(folder, 'tools.json'), '[]');
      }
      const pins = { pins: { onNewTool: 'warn' } };
      const timed = await load([{ path: join(folders.timed, 'dyn.py'), id: 'timed', dynamicToolsRefreshSeconds: 0.5 }], pins);
      const onCall = await load([{ path: join(folders.onCall, 'dyn.py'), id: 'oncall', dynamicToolsRefreshSeconds: 0 }], pins);
      expect(names(timed)).toEqual(['timed__ping']);
      await writeFile(join(folders.timed, 'tools.json'), '["late"]');
      await writeFile(join(folders.onCall, 'tools.json'), '["late"]');
      // No call is made: the timer alone brings the new tool.
      await expect.poll(() => names(timed), { timeout: 5_000 }).toEqual(['timed__late', 'timed__ping']);
      // Without the timer, the list waits for a call (well past the other's refresh).
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(names(onCall)).toEqual(['oncall__ping']);
      expect(textOf(await settle(onCall, 'oncall__ping'))).toBe('pong');
      await expect.poll(() => names(onCall), { timeout: 5_000 }).toEqual(['oncall__late', 'oncall__ping']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('an import error names the module, file and line', async () => {
    const toolport = await load([{ path: fixture('broken_import.py') }]);
    expect(toolport.diagnostics[0]?.message).toMatch(/ModuleNotFoundError at .*broken_import\.py:4: No module named 'scaiwave_internal_client'/);
  });

  it('a file without a plugin says what is expected', async () => {
    const toolport = await load([{ path: fixture('registry_pkg/helpers.py') }]);
    expect(toolport.diagnostics[0]?.message).toMatch(/no ScaiWave plugin found: define a class that extends app\.plugins\.base\.BasePlugin/);
  });

  it('a missing interpreter is a clear load error', async () => {
    const toolport = await load([{ path: fixture('contract.py'), python: 'python3-does-not-exist' }]);
    expect(toolport.diagnostics[0]?.message).toMatch(/cannot start the Python interpreter "python3-does-not-exist" \(not found\)/);
  });

  const python38 = '/root/.pyenv/versions/3.8.18/bin/python';
  it.skipIf(!existsSync(python38))(`a Python older than 3.9 is refused with its version${existsSync(python38) ? '' : ` (skipped: no ${python38})`}`, async () => {
    const toolport = await load([{ path: fixture('contract.py'), python: python38 }]);
    expect(toolport.diagnostics[0]?.message).toMatch(/needs Python 3\.9 or newer, this is 3\.8\.18/);
  });

  const python39 = '/root/.pyenv/versions/3.9.18/bin/python';
  it.skipIf(!existsSync(python39))(`runs on Python 3.9${existsSync(python39) ? '' : ` (skipped: no ${python39})`}`, async () => {
    const toolport = await load([{ path: fixture('weather.py'), python: python39 }]);
    expect(problemsOf(toolport)).toEqual([]);
    expect(textOf(await settle(toolport, 'acme_weather__forecast', { city: 'Tokyo' }))).toContain('晴れ');
  });

  it('a package with BUILTIN_PLUGINS: all its plugins under one prefix, shared tool names qualified', async () => {
    const toolport = await load([{ path: fixture('registry_pkg') }]);
    expect(problemsOf(toolport)).toEqual([]);
    expect(toolport.listTools().map((tool) => tool.name)).toEqual([
      'registry_pkg__clock_status',
      'registry_pkg__counter_status',
      'registry_pkg__increment',
      'registry_pkg__nap',
    ]);
    expect(textOf(await settle(toolport, 'registry_pkg__clock_status'))).toBe('clock ok');
    await settle(toolport, 'registry_pkg__increment', {}, { approval: { preApproved: 'test' } });
    expect(textOf(await settle(toolport, 'registry_pkg__counter_status'))).toBe('count=1');
  });

  it('a synchronous execute_tool runs in a worker thread, so calls still overlap', async () => {
    const toolport = await load([{ path: fixture('registry_pkg') }]);
    // Listed from the load cache, the host may still be starting: time the calls, not that.
    await settle(toolport, 'registry_pkg__clock_status');
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 4 }, () => settle(toolport, 'registry_pkg__nap')));
    for (const result of results) expect(textOf(result)).toBe('napped');
    // One after the other would take 2 s.
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('dynamic tools appear after the call that installed them, with a tools-changed signal', async () => {
    // A skill installed while serving is a new tool of a pinned plugin: served with a warning here.
    const toolport = await load([{ path: fixture('skills.py') }], { pins: { onNewTool: 'warn' } });
    expect(toolport.listTools().map((tool) => tool.name)).toEqual(['acme_skills__install_skill']);
    const changed = new Promise<void>((resolve) => toolport.onToolsChanged(resolve));
    const approved = { approval: { preApproved: 'test' } };
    expect(textOf(await settle(toolport, 'acme_skills__install_skill', { name: 'haiku', reply: 'five seven five' }, approved))).toBe('installed skill_haiku');
    await changed;
    expect(toolport.listTools().map((tool) => tool.name)).toEqual(['acme_skills__install_skill', 'acme_skills__skill_haiku']);
    const tool = toolport.listTools().find((entry) => entry.name === 'acme_skills__skill_haiku');
    expect(tool?.mcpTool._meta?.['toolport/scaiwave']).toMatchObject({ dynamic: true });
    expect(textOf(await settle(toolport, 'acme_skills__skill_haiku', { question: 'why?' }))).toBe('five seven five (why?)');
  });

  it('a host that keeps crashing is restarted with growing delays', async () => {
    const toolport = await load([{ path: fixture('contract.py') }]);
    const elapsed: number[] = [];
    for (let crash = 0; crash < 3; crash += 1) {
      const started = Date.now();
      const result = await settle(toolport, 'contract__crash');
      elapsed.push(Date.now() - started);
      expect(textOf(result)).toMatch(/Python process was killed by SIGKILL during the call/);
    }
    const started = Date.now();
    const next = await settle(toolport, 'contract__echo', { text: 'back' });
    const waited = Date.now() - started;
    expect(textOf(next)).toBe('echo: back');
    // First restart at once; after the second crash 250 ms; after the third 500 ms.
    expect(elapsed[2]).toBeGreaterThanOrEqual(240);
    expect(waited).toBeGreaterThanOrEqual(490);
  });

  it('a second start lists the tools from the load cache and starts the host behind them', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'toolport-python-state-'));
    try {
      // An interpreter that takes a second to start makes the difference visible.
      const python = join(stateDir, 'slow-python');
      await writeFile(python, '#!/bin/sh\nsleep 2\nexec python3 "$@"\n', { mode: 0o755 });
      const config = parseConfig({ plugins: [{ path: fixture('contract.py'), python, ...sandboxForTests }] });
      let started = Date.now();
      const first = await createToolport(config, { stateDir });
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
      expect(problemsOf(first)).toEqual([]);
      await first.close();

      started = Date.now();
      const second = await createToolport(config, { stateDir });
      hosts.push(second);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(second.listTools().map((tool) => tool.name)).toContain('contract__echo');
      expect(textOf(await settle(second, 'contract__echo', { text: 'from the cache' }))).toBe('echo: from the cache');
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it.skipIf(!bwrapWorks)(`the interpreter's answer is kept across starts; a kept answer gone stale is corrected, and the host restarts with the real interpreter${needsBwrap}`, async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'toolport-python-interpreter-'));
    try {
      // Asking this interpreter takes a second (as a version manager's shim takes ~0.3 s).
      const python = join(stateDir, 'slow-python');
      await writeFile(python, '#!/bin/sh\nsleep 1\nexec python3 "$@"\n', { mode: 0o755 });
      const config = parseConfig({ plugins: [{ path: fixture('contract.py'), python }] });
      const first = await createToolport(config, { stateDir });
      await first.close();
      const keptDir = join(stateDir, 'cache', 'python');
      const [keptName] = (await readdir(keptDir)).filter((name) => /^interpreter-.*\.json$/.test(name));
      expect(keptName).toBeDefined();
      const kept = join(keptDir, keptName as string);
      const real = JSON.parse(await readFile(kept, 'utf8')) as { executable: string; folders: string[] };
      expect(real.executable).toMatch(/^\//);
      expect(real.executable).not.toBe(python);

      // Make the kept answer stale: a program outside every folder the sandbox shows, so a host
      // started with it cannot run. The fresh answer, asked behind it, must put things right.
      const stale = join(stateDir, 'elsewhere', 'python3');
      await mkdir(dirname(stale), { recursive: true });
      await symlink(real.executable, stale);
      await writeFile(kept, JSON.stringify({ ...real, executable: stale }));
      const captured = createCapturingLogger();
      const second = await createToolport(config, { stateDir, logger: captured.logger });
      hosts.push(second);
      expect(second.listTools().map((tool) => tool.name)).toContain('contract__echo');
      const warned = await waitFor(() => captured.lines.find((line) => line.includes('the Python interpreter changed since the last start')), 10_000);
      expect(warned).toBeDefined();
      expect(textOf(await settle(second, 'contract__echo', { text: 'fixed' }))).toBe('echo: fixed');
      expect(JSON.parse(await readFile(kept, 'utf8'))).toEqual(real);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 30_000);

  it.skipIf(!bwrapWorks)(`an interpreter changed since the last start also replaces a host that is still loading its plugin${needsBwrap}`, async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'toolport-python-interpreter-load-'));
    try {
      // A plugin whose import takes longer than the second after which the interpreter is asked again.
      const plugin = join(stateDir, 'plugin', 'slow_import.py');
      await mkdir(dirname(plugin), { recursive: true });
      await writeFile(
        plugin,
        [
          'import sys, time',
          'from app.plugins.base import BasePlugin',
          'from app.plugins.protocol import PluginManifest, ToolDefinition',
          'time.sleep(2)',
          'class SlowImport(BasePlugin):',
          '    @property',
          '    def manifest(self):',
          '        return PluginManifest(id="t.slow", name="s", version="1", description="d", tools=[ToolDefinition(name="python", description="d")])',
          '    async def execute_tool(self, tool_name, args, ctx):',
          '        return sys.executable',
          '',
        ].join('\n'),
      );
      const config = parseConfig({ plugins: [{ path: plugin }] });
      const first = await createToolport(config, { stateDir });
      await first.close();
      const keptDir = join(stateDir, 'cache', 'python');
      const names = await readdir(keptDir);
      const keptName = names.find((name) => /^interpreter-.*\.json$/.test(name));
      expect(keptName).toBeDefined();
      const kept = join(keptDir, keptName as string);
      const real = JSON.parse(await readFile(kept, 'utf8')) as { executable: string; folders: string[] };
      // The kept answer now names another program that works (a link to the same interpreter, in
      // a folder the sandbox shows), so the fresh answer differs; and no load answer is kept, so
      // the plugin is loaded afresh, past the moment the fresh answer arrives.
      const other = join(stateDir, 'other');
      await mkdir(other);
      await symlink(real.executable, join(other, 'python3'));
      await writeFile(kept, JSON.stringify({ executable: join(other, 'python3'), folders: [...real.folders, other] }));
      for (const name of names) if (name !== keptName) await rm(join(keptDir, name), { recursive: true, force: true });

      const second = await createToolport(config, { stateDir });
      hosts.push(second);
      await expect.poll(async () => textOf(await settle(second, 't_slow__python')), { timeout: 15_000, interval: 250 }).toBe(real.executable);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 40_000);

  it('an edited plugin file is loaded again, not taken from the cache', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'toolport-python-edit-'));
    const stateDir = join(folder, 'state');
    const plugin = join(folder, 'editable.py');
    const source = (tool: string): string =>
      [
        'from app.plugins.base import BasePlugin',
        'from app.plugins.protocol import PluginManifest, ToolDefinition',
        'class Editable(BasePlugin):',
        '    @property',
        '    def manifest(self):',
        `        return PluginManifest(id="t.editable", name="e", version="1", description="d", tools=[ToolDefinition(name="${tool}", description="d")])`,
        '    async def execute_tool(self, tool_name, args, ctx):',
        '        return tool_name',
        '',
      ].join('\n');
    let second: Toolport | undefined;
    try {
      await writeFile(plugin, source('before'));
      // The edit adds a tool to a pinned plugin: served with a warning here (this is about the cache).
      const config = parseConfig({ pins: { onNewTool: 'warn' }, plugins: [{ path: plugin, ...sandboxForTests }] });
      const first = await createToolport(config, { stateDir });
      expect(first.listTools().map((tool) => tool.name)).toEqual(['t_editable__before']);
      await first.close();
      await writeFile(plugin, source('after'));
      second = await createToolport(config, { stateDir });
      expect(second.listTools().map((tool) => tool.name)).toEqual(['t_editable__after']);
      expect(textOf(await settle(second, 't_editable__after'))).toBe('after');
    } finally {
      // Closed before its state folder is removed: a host still running may write there.
      await second?.close();
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("a plugin does not find the host's folder on sys.path, and can pickle what it is given", async () => {
    const folder = await mkdtemp(join(tmpdir(), 'toolport-python-host-hidden-'));
    const plugin = join(folder, 'looker.py');
    await writeFile(
      plugin,
      [
        'import json, os, pickle, sys',
        'from app.plugins.base import BasePlugin',
        'from app.plugins.protocol import PluginManifest, ToolDefinition',
        'class Looker(BasePlugin):',
        '    @property',
        '    def manifest(self):',
        '        return PluginManifest(id="t.looker", name="l", version="1", description="d", tools=[ToolDefinition(name="look", description="d")])',
        '    async def execute_tool(self, tool_name, args, ctx):',
        '        paths = [os.path.abspath(entry or os.curdir) for entry in sys.path]',
        '        return json.dumps({"hostFolders": [p for p in paths if p.endswith(os.path.join("python", "host"))], "settings": pickle.loads(pickle.dumps(ctx.settings))})',
        '',
      ].join('\n'),
    );
    try {
      const toolport = await load([{ path: plugin, settings: { region: 'north' } }]);
      expect(JSON.parse(textOf(await settle(toolport, 't_looker__look')))).toEqual({ hostFolders: [], settings: { region: 'north' } });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('user_token is passed only when configured', async () => {
    const toolport = await load([{ path: fixture('weather.py'), userToken: 'jwt-for-the-plugin', settings: { locale: 'en' } }]);
    expect(JSON.parse(textOf(await settle(toolport, 'acme_weather__whoami')))).toMatchObject({ user_token: 'jwt-for-the-plugin', tenant_id: 'toolport' });
  });

  it('services name factories for ctx.redis and friends, imported from the plugin folder', async () => {
    const toolport = await load([{ path: fixture('weather.py'), services: { redis: 'weather_services:make_redis' }, settings: { locale: 'en' } }]);
    expect(JSON.parse(textOf(await settle(toolport, 'acme_weather__whoami')))).toMatchObject({ redis: { kind: 'fake-redis' }, db: null });
  });

  it('granted permissions let the call through', async () => {
    const toolport = await load([{ path: fixture('weather.py'), grants: { permissions: ['EXTERNAL_HTTP'] } }]);
    const result = await settle(toolport, 'acme_weather__radar');
    expect(result.isError).toBeUndefined();
    expect(textOf(result)).toBe('radar: all clear');
  });

  it('close() stops the host and anything it started, and is idempotent', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'toolport-python-close-'));
    try {
      const plugin = join(scratch, 'spawner.py');
      await writeFile(
        plugin,
        [
          'import subprocess, sys',
          'from app.plugins.base import BasePlugin',
          'from app.plugins.protocol import PluginManifest, ToolDefinition',
          'class Spawner(BasePlugin):',
          '    @property',
          '    def manifest(self):',
          '        return PluginManifest(id="t.spawner", name="s", version="1", description="d", tools=[ToolDefinition(name="spawn", description="d", parameters={"type": "object", "properties": {"marker": {"type": "string"}}})])',
          '    async def execute_tool(self, tool_name, args, ctx):',
          '        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", args])',
          '        return "started"',
          '',
        ].join('\n'),
      );
      const toolport = await createToolport(parseConfig({ plugins: [{ path: plugin, allowSubprocess: true, ...sandboxForTests }] }));
      expect(await liveInterpreters()).toHaveLength(1);
      // The grandchild carries a marker in its command line (its pid inside the sandbox would be the sandbox's own).
      const marker = `spawner-child-${process.pid}-x`;
      expect(textOf(await settle(toolport, 't_spawner__spawn', { marker }))).toBe('started');
      expect(await pidsWithMarker(marker)).toHaveLength(1);
      await Promise.all([toolport.close(), toolport.close()]);
      expect(await livePythonHosts()).toEqual([]);
      expect(await waitFor(async () => ((await pidsWithMarker(marker)).length === 0 ? true : undefined))).toBe(true);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
