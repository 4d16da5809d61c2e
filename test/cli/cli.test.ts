// The command line as a user meets it: help, exit codes, config errors that name the file
// and path, one-off calls, and a clean shutdown on SIGTERM that reaches a running call.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, connectClient, repoRoot } from '../helpers/toolport-process.js';

const exec = promisify(execFile);
const e2e = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
const examples = join(repoRoot, 'examples');

async function toolport(args: string[], options: { cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return exec(process.execPath, [binPath, ...args], { cwd: options.cwd ?? repoRoot }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toolport-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('toolport CLI', () => {
  it('prints help and its version', async () => {
    const help = await toolport(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['serve', 'list', 'call', 'check', 'policy explain', 'approvals list']) expect(help.stdout).toContain(`toolport ${command}`);
    const version = await toolport(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 on bad usage, naming the problem', async () => {
    expect(await toolport(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') as string });
    expect(await toolport(['serve', '--bogus'])).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--bogus'") as string });
    expect(await toolport(['list'], { cwd: dir })).toMatchObject({ code: 2, stderr: expect.stringContaining('nothing to serve') as string });
    expect(await toolport(['serve', examples, '--port', 'abc'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--port: expected 0-65535') as string });
  });

  it('exits 2 on an invalid config, naming the file, the path and what was expected', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'defaults:\n  timeoutSeconds: -1\nplugins:\n  - path: ./x.mjs\n    kind: lisp\n');
    const result = await toolport(['check', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`invalid config ${file}`);
    expect(result.stderr).toMatch(/defaults\.timeoutSeconds: .*>0/);
    expect(result.stderr).toMatch(/plugins\[0\]\.kind: .*"module"/);
  });

  it('check exits 1 when a plugin cannot load, and names it', async () => {
    const notes = join(dir, 'notes.txt');
    await writeFile(notes, 'not a plugin');
    const result = await toolport(['check', notes, e2e]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/plugins\[0\] .*notes\.txt: cannot tell the plugin kind of "notes\.txt"/);
    expect(result.stdout).toMatch(/1 error; 4 tools usable/);
  });

  it('check warns about a policy rule that matches no tool, without failing', async () => {
    const file = join(dir, 'typo.yaml');
    await writeFile(file, `plugins:\n  - path: ${e2e}\npolicy:\n  rules:\n    - { tool: "e2e__wether", action: deny }\n    - { tool: "e2e__weather", action: ask }\n`);
    const result = await toolport(['check', '--config', file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('warning: policy.rules[0] (tool: "e2e__wether", action: deny) matches no tool');
    expect(result.stderr).not.toMatch(/policy\.rules\[1\] .*matches no tool/);
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
  });

  it('SIGTERM while a call runs: the call is aborted, the plugin sees it, the process exits 0', async () => {
    const marker = join(dir, 'shutdown-marker');
    const child = spawn(process.execPath, [binPath, 'serve', e2e, '--http', '--port', '0', '--log-level', 'info'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const url = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const match = /serving at (http:\/\/\S+)\/mcp/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
    });
    const client = await connectClient('http-2025', { url });
    const running = client.callTool({ name: 'e2e__slow', arguments: { steps: 400, marker } }, { onprogress: () => child.kill('SIGTERM') });
    running.catch(() => {});
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(await readFile(marker, 'utf8')).toBe('aborted');
    expect(stderr).toContain('shutting down');
    await client.close().catch(() => {});
  });
});
