// The command line as a user meets it: help per command, version, exit codes, "did you
// mean", environment variables, config errors that name the file, line and path, each
// problem printed once, logs for a terminal, a port in use, one-off calls, and a clean
// shutdown on SIGTERM that reaches a running call.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { freePort } from '../helpers/mqtt-broker.js';
import { binPath, connectClient, repoRoot, runToolport, waitForServing } from '../helpers/toolport-process.js';

const exec = promisify(execFile);
const e2e = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
const examples = join(repoRoot, 'examples');
const hasScript = spawnSync('sh', ['-c', 'command -v script']).status === 0;

const toolport = runToolport;

/** `toolport serve ARGS` with extra environment, once it says where it listens. */
async function startServe(args: string[], env: NodeJS.ProcessEnv): Promise<{ url: string; child: ReturnType<typeof spawn> }> {
  const child = spawn(process.execPath, [binPath, 'serve', ...args, '--log-level', 'warn'], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const url = await waitForServing(child, () => stderr);
  return { url, child };
}

const dir = useTempDir('toolport-cli-', 'all');

describe('toolport CLI', () => {
  it('prints help and its version', async () => {
    const help = await toolport(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['serve', 'list', 'call', 'check', 'policy explain', 'approvals list', 'init', 'schema']) expect(help.stdout).toContain(`toolport ${command}`);
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V', '-v']) expect((await toolport([flag])).stdout).toBe(`${version}\n`);
    expect((await toolport(['serve', '--version'])).stdout).toBe(`${version}\n`);
  });

  it('each command has its own help, and takes only its own options', async () => {
    const serve = await toolport(['serve', '--help']);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toMatch(/^Usage: toolport serve /);
    expect(serve.stdout).toContain('--port N');
    expect(serve.stdout).not.toContain('--principal');
    const call = await toolport(['help', 'call']);
    expect(call.stdout).toMatch(/^Usage: toolport call TOOL/);
    expect(call.stdout).not.toContain('--port');
    expect((await toolport(['init', '-h'])).stdout).toContain('--kind KIND');
    expect(await toolport(['list', examples, '--port', '3'])).toMatchObject({ code: 2, stderr: 'toolport: --port: not an option of list; see toolport list --help\n' });
  });

  it('suggests what a misspelt command or option was meant to be', async () => {
    expect(await toolport(['lsit'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "lsit" (did you mean "list"?)') as string });
    expect(await toolport(['serve', examples, '--prot', '9'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`Unknown option '--prot' (did you mean "--port"?); see toolport serve --help`) as string,
    });
    expect((await toolport(['call', 'e2e__wether', e2e])).stderr).toContain('Unknown tool: e2e__wether (did you mean "e2e__weather"?)');
    expect(await toolport(['help', 'lsit'])).toMatchObject({ code: 2, stderr: expect.stringContaining('help: no command "lsit" (did you mean "list"?)') as string });
    expect(await toolport(['policy', 'explain', 'e2e__wether', e2e])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('Unknown tool: e2e__wether (did you mean "e2e__weather"?)') as string,
    });
    expect(await toolport(['pins', 'approve', '--plugin', 'e2f', e2e])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('pins approve --plugin: no plugin "e2f" is served (did you mean "e2e"?); served: e2e') as string,
    });
  });

  it('arguments that are not JSON are refused as such, not taken for a plugin path', async () => {
    const result = await toolport(['call', 'e2e__weather', 'Riga', e2e]);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain(`call: "Riga" is neither JSON arguments (an object: '{"key":"value"}') nor a plugin path that exists`);
  });

  it('a plugin path where the tool name belongs is named as such, not taken for a tool', async () => {
    for (const command of [['call'], ['policy', 'explain'], ['pins', 'diff']]) {
      const result = await toolport([...command, e2e]);
      expect(result.code, command.join(' ')).toBe(2);
      expect(result.stderr, command.join(' ')).toContain(`${command.join(' ')}: "${e2e}" is a path, not a tool name; the tool comes first`);
    }
  });

  it('exits 2 on bad usage, naming the problem', async () => {
    expect(await toolport(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') as string });
    expect(await toolport(['serve', '--bogus'])).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--bogus'") as string });
    expect(await toolport(['list'], { cwd: dir.path })).toMatchObject({ code: 2, stderr: expect.stringContaining('nothing to serve') as string });
    expect(await toolport(['serve', examples, '--port', 'abc'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--port: expected 0-65535') as string });
  });

  it('exits 2 on an invalid config, naming the file, the path and what was expected', async () => {
    const file = join(dir.path, 'bad.yaml');
    await writeFile(file, 'defaults:\n  timeoutSeconds: -1\nplugins:\n  - path: ./x.mjs\n    kind: lisp\n');
    const result = await toolport(['check', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`invalid config ${file}`);
    expect(result.stderr).toMatch(/defaults\.timeoutSeconds: .*>0/);
    expect(result.stderr).toMatch(/plugins\[0\]\.kind: .*"module"/);
  });

  it('an unknown key in a plugin block is a config error at its line, also when the kind is known only from the path', async () => {
    const file = join(dir.path, 'typo.yaml');
    await writeFile(file, `plugins:\n  - path: ${e2e}\n    timeoutSecond: 10\n`);
    const typo = await toolport(['serve', '--config', file, '--http', '--port', '0']);
    expect(typo).toMatchObject({ code: 2, stdout: '' });
    expect(typo.stderr).toBe(`toolport: invalid config ${file}:\n  ${file}:3:5: plugins[0]: unknown key "timeoutSecond" (did you mean "timeoutSeconds"?)\n`);
    const foreign = join(dir.path, 'foreign.yaml');
    await writeFile(foreign, `plugins:\n  - path: ${e2e}\n    secretToken: abc\n`);
    const detected = await toolport(['check', '--config', foreign]);
    expect(detected.code).toBe(2);
    expect(detected.stderr).toBe(`toolport: invalid config ${foreign}:\n  ${foreign}:3:5: plugins[0]: "secretToken" is a key of http plugins, and this is a module plugin\n`);
  });

  it('one-shot commands print each load problem once, with file, line and column where there is one', async () => {
    const broken = join(dir.path, 'broken.mjs');
    await writeFile(broken, 'export default {\n  manifest: { tools: [ }\n};\n');
    const manifest = join(dir.path, 'broken-manifest.json');
    await writeFile(manifest, '{\n  "manifest_version": "1",\n  "name": \n}\n');
    const list = await toolport(['list', broken, manifest, e2e], { env: { TOOLPORT_LOG_LEVEL: 'warn' } });
    expect(list.code).toBe(1);
    expect(list.stderr.split('\n').filter(Boolean)).toEqual([
      `error: plugins[0] ${broken}:2:24: SyntaxError: Unexpected token '}'`,
      `error: plugins[1] ${manifest}:4:1: not valid JSON: Unexpected token '}'`,
    ]);
    expect(list.stdout).toContain('e2e__weather');
  });

  it('list with a Python plugin (answered from its load cache the second time) logs nothing and exits 0', async () => {
    const python = join(examples, 'python');
    expect((await toolport(['list', python])).code).toBe(0);
    const again = await toolport(['list', python]);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain('examples_reading_list__save_link');
  });

  it('takes the config file, log level and HTTP listener from TOOLPORT_* variables; flags win', async () => {
    const config = join(dir.path, 'from-env.yaml');
    await writeFile(config, `plugins:\n  - path: ${e2e}\n`);
    const listed = await toolport(['list'], { cwd: dir.path, env: { TOOLPORT_CONFIG: config } });
    expect(listed).toMatchObject({ code: 0, stdout: expect.stringContaining('e2e__weather') as string });
    expect((await toolport(['list', e2e])).stderr).toBe('');
    expect((await toolport(['list', e2e], { env: { TOOLPORT_LOG_LEVEL: 'info' } })).stderr).toContain('"msg":"plugins loaded"');
    expect((await toolport(['list', e2e, '--log-level', 'warn'], { env: { TOOLPORT_LOG_LEVEL: 'info' } })).stderr).toBe('');
    expect(await toolport(['list', e2e], { env: { TOOLPORT_LOG_LEVEL: 'loud' } })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('TOOLPORT_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"') as string,
    });
    expect(await toolport(['serve', e2e, '--http'], { env: { TOOLPORT_PORT: 'eighty' } })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('TOOLPORT_PORT: expected 0-65535, got "eighty"') as string,
    });
    const port = await freePort();
    const server = await startServe([e2e, '--http'], { TOOLPORT_PORT: String(port), TOOLPORT_HOST: '127.0.0.1' });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${port}`);
    } finally {
      server.child.kill('SIGTERM');
    }
  });

  it('a port in use is one line that says what to do, exit 1', async () => {
    const server = await startServe([e2e, '--http', '--port', '0'], {});
    try {
      const port = new URL(server.url).port;
      const second = await toolport(['serve', e2e, '--port', port]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`toolport: cannot serve HTTP on 127.0.0.1:${port}: the port is in use`);
      expect(second.stderr).toContain('--port N (npm start -- --port N) or TOOLPORT_PORT=N');
      expect(second.stderr).not.toContain('    at ');
    } finally {
      server.child.kill('SIGTERM');
    }
  });

  it('logs JSON lines when stderr is not a terminal', async () => {
    const json = await toolport(['list', e2e, '--log-level', 'info']);
    const lines = json.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(lines.find((line) => line.msg === 'plugins loaded')).toMatchObject({ level: 30 });
  });

  it.skipIf(!hasScript)('logs readable lines when stderr is a terminal (skipped where util-linux `script` is missing to make one)', async () => {
    const command = [process.execPath, binPath, 'list', e2e, '--log-level', 'info'].map((part) => `'${part}'`).join(' ');
    const { stdout } = await exec('script', ['-qec', command, '/dev/null'], { cwd: repoRoot });
    const plain = stdout.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: plugins loaded \{"plugins":1,"tools":4\}\r?$/m);
    expect(plain).not.toContain('"level"');
  });

  it('TOOLPORT_LOG_FORMAT chooses: pretty lines where stderr is no terminal, json; anything else is a usage error', async () => {
    const pretty = await toolport(['list', e2e, '--log-level', 'info'], { env: { TOOLPORT_LOG_FORMAT: 'pretty' } });
    expect(pretty.stderr.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: plugins loaded/m);
    expect(pretty.stderr).not.toContain('"level"');
    const json = await toolport(['list', e2e, '--log-level', 'info'], { env: { TOOLPORT_LOG_FORMAT: 'json' } });
    expect(json.stderr).toContain('"msg":"plugins loaded"');
    expect(await toolport(['list', e2e], { env: { TOOLPORT_LOG_FORMAT: 'xml' } })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('TOOLPORT_LOG_FORMAT: expected json or pretty, got "xml"') as string,
    });
  });

  it('serve speaks stdio by default, and TOOLPORT_PORT does not switch it to HTTP', async () => {
    const child = spawn(process.execPath, [binPath, 'serve', e2e], { cwd: repoRoot, env: { ...process.env, TOOLPORT_PORT: '0' }, stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n`);
      const until = Date.now() + 15_000;
      while (!out.includes('\n') && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(JSON.parse(out.split('\n')[0] ?? '')).toMatchObject({ id: 1, result: { serverInfo: { name: 'toolport' } } });
    } finally {
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });

  it('check exits 1 when a plugin cannot load, and names it', async () => {
    const notes = join(dir.path, 'notes.txt');
    await writeFile(notes, 'not a plugin');
    const result = await toolport(['check', notes, e2e]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/plugins\[0\] .*notes\.txt: cannot tell the plugin kind of "notes\.txt"/);
    expect(result.stdout).toMatch(/1 error; 4 tools usable/);
  });

  it('check warns about a policy rule that matches no tool, without failing', async () => {
    const file = join(dir.path, 'typo.yaml');
    await writeFile(file, `plugins:\n  - path: ${e2e}\npolicy:\n  rules:\n    - { tool: "e2e__wether", action: deny }\n    - { tool: "e2e__weather", action: ask }\n`);
    const result = await toolport(['check', '--config', file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('warning: policy.rules[0] (tool: "e2e__wether", action: deny) matches no tool');
    expect(result.stderr).not.toMatch(/policy\.rules\[1\] .*matches no tool/);
  });

  it('check warns about a limits entry whose glob matches no tool, without failing', async () => {
    const file = join(dir.path, 'limits-typo.yaml');
    await writeFile(file, `plugins:\n  - path: ${e2e}\nlimits:\n  - { tool: "e2e__wether*", perMinute: 5 }\n  - { tool: "e2e__weather", perMinute: 5 }\n`);
    const result = await toolport(['check', '--config', file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: limits\[0\] \(.*e2e__wether\*.*\) matches no tool/);
    expect(result.stderr).not.toMatch(/limits\[1\] .*matches no tool/);
  });

  it('call prints the result; an isError result exits 1; an unknown tool exits 2 listing the known ones', async () => {
    const ok = await toolport(['call', 'e2e__weather', '{"city":"Riga","days":2}', e2e]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ city: 'Riga', days: 2, summary: '2 day(s) of sun in Riga' });
    const failed = await toolport(['call', 'e2e__fail', e2e]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('Fallback suggestions:');
    const json = await toolport(['call', 'e2e__weather', '{"city":"Riga"}', e2e, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ structuredContent: { city: 'Riga' } });
    const unknown = await toolport(['call', 'e2e__nope', e2e]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('known tools: e2e__fail, e2e__grow, e2e__slow, e2e__weather');
    // A plugin failure is no approval matter: no hint.
    expect(failed.stderr).not.toContain('hint:');
  });

  it('call of a tool that asks for approval, without --approve: refused, with a hint naming --approve; with it, the tool runs', async () => {
    const notebook = join(examples, 'notebook.mjs');
    const refused = await toolport(['call', 'notebook__add_note', '{"text":"buy milk"}', notebook]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('hint: notebook__add_note asks for approval (policy.sideEffects: ask (the tool has side effects)); on the command line, --approve gives it\n');
    const approved = await toolport(['call', 'notebook__add_note', '{"text":"buy milk"}', notebook, '--approve']);
    expect(approved).toMatchObject({ code: 0 });
    expect(approved.stderr).not.toContain('hint:');
  });

  it('SIGTERM while a call runs: the call is aborted, the plugin sees it, the process exits 0', async () => {
    const marker = join(dir.path, 'shutdown-marker');
    const child = spawn(process.execPath, [binPath, 'serve', e2e, '--http', '--port', '0', '--log-level', 'info'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const url = await waitForServing(child, () => stderr);
    const client = await connectClient('http-2025', { url });
    // One signal, at the first progress (a second would exit at once).
    let signalled = false;
    const running = client.callTool({ name: 'e2e__slow', arguments: { steps: 400, marker } }, { onprogress: () => void (signalled || ((signalled = true), child.kill('SIGTERM'))) });
    running.catch(() => {});
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(await readFile(marker, 'utf8')).toBe('aborted');
    expect(stderr).toContain('shutting down');
    // The call is recorded as stopped by the shutdown, not as cancelled by its client.
    expect(stderr).toContain('e2e__slow was stopped: the server is shutting down');
    expect(stderr).not.toContain('cancelled by the client');
    // The client had its answer before its session closed.
    await expect(running).resolves.toMatchObject({ isError: true, content: [{ type: 'text', text: 'e2e__slow was stopped: the server is shutting down' }] });
    await client.close().catch(() => {});
  });
});
