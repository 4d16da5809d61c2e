// `toolport init` for every kind: the folder it writes passes `toolport check`, and a real
// client started exactly as init printed (the Claude Desktop line) calls its tool.
import { execFile, spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { bwrapWorks as isolationAvailable } from '../helpers/sandbox.js';
import { binPath, isolatedStateEnv, repoRoot, runToolport, type RunResult } from '../helpers/toolport-process.js';

const exec = promisify(execFile);
const kinds = ['module', 'python', 'command', 'http', 'wasm'] as const;

const toolport = (args: string[], cwd = repoRoot): Promise<RunResult> => runToolport(args, { cwd });

/** The Claude Desktop entry init printed, parsed from its output. */
function printedDesktopEntry(output: string): { command: string; args: string[] } {
  const line = output.split('\n').find((text) => text.trim().startsWith('{"mcpServers"'));
  if (!line) throw new Error(`no Claude Desktop line in:\n${output}`);
  return (JSON.parse(line.trim()) as { mcpServers: { toolport: { command: string; args: string[] } } }).mcpServers.toolport;
}

const root = useTempDir('toolport-init-', 'all');

describe('toolport init', () => {
  for (const kind of kinds) {
    // A skill without a network grant runs only where toolport can isolate it.
    const skip = kind === 'command' && !isolationAvailable;
    it.skipIf(skip)(`--kind ${kind}: check passes, and a client started as printed calls hello__greet${kind === 'command' ? ' (needs network isolation: unshare or bwrap)' : ''}`, async () => {
      const dir = join(root.path, kind);
      const init = await toolport(['init', dir, '--kind', kind]);
      expect(init).toMatchObject({ code: 0, stderr: '' });
      // The lines after "Then:" run as printed, from any folder (toolport is on no PATH here).
      const then = init.stdout.split('\n');
      const [checkLine, callLine] = then.slice(then.indexOf('Then:') + 1, then.indexOf('Then:') + 3).map((line) => line.trim());
      expect(checkLine).toBe(`${process.execPath} ${binPath} check --config ${join(dir, 'toolport.yaml')}`);
      expect(callLine).toMatch(/ call hello__greet '\{"name":"Ada"\}' --config /);
      const config = await readFile(join(dir, 'toolport.yaml'), 'utf8');
      expect(config.split('\n')[0]).toBe('# yaml-language-server: $schema=./toolport.schema.json');
      expect(JSON.parse(await readFile(join(dir, 'toolport.schema.json'), 'utf8'))).toMatchObject({ title: 'toolport config' });

      // The http kind's plugin is an API of its own, started first as init says.
      const api = kind === 'http' ? spawn(process.execPath, [join(dir, 'hello-api.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] }) : undefined;
      try {
        if (api) await new Promise((resolve) => api.stdout?.once('data', resolve));
        const check = await toolport(['check'], dir);
        expect(check.stdout).toBe('ok: 1 tool\n');
        expect(check.code).toBe(0);
        const printed = { cwd: tmpdir() };
        expect((await exec('sh', ['-c', checkLine ?? ''], printed)).stdout).toBe('ok: 1 tool\n');
        expect((await exec('sh', ['-c', callLine ?? ''], printed)).stdout).toContain('Hello, Ada!');

        const entry = printedDesktopEntry(init.stdout);
        const client = new Client({ name: 'toolport-init-test', version: '1.0.0' });
        await client.connect(new StdioClientTransport({
            command: entry.command,
            args: entry.args,
            // A client's environment, with this test's state folder (pins stay out of the real home).
            env: { ...getDefaultEnvironment(), ...isolatedStateEnv() },
            stderr: 'pipe',
          }));
        try {
          expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['hello__greet']);
          const result = await client.callTool({ name: 'hello__greet', arguments: { name: 'Ada' } });
          expect(result.isError).toBeFalsy();
          expect(JSON.stringify(result.content)).toContain('Hello, Ada!');
        } finally {
          await client.close();
        }
      } finally {
        api?.kill('SIGTERM');
      }
    });
  }

  it('refuses to overwrite files unless --force; the folder defaults to the current one', async () => {
    const dir = join(root.path, 'again');
    await toolport(['init', dir]);
    await writeFile(join(dir, 'hello.mjs'), '// mine\n');
    const again = await toolport(['init', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${dir} already has hello.mjs, toolport.schema.json, toolport.yaml; pass --force to overwrite`);
    expect((await toolport(['init'], dir)).stderr).toContain('this folder already has hello.mjs');
    expect(await readFile(join(dir, 'hello.mjs'), 'utf8')).toBe('// mine\n');
    expect((await toolport(['init', '--force'], dir)).code).toBe(0);
    expect(await readFile(join(dir, 'hello.mjs'), 'utf8')).toContain('executeTool');
    expect(await toolport(['init', dir, '--kind', 'rust'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--kind: expected one of module, python, command, http, wasm, got "rust"') as string });
    expect((await stat(join(dir, 'toolport.yaml'))).isFile()).toBe(true);
  });
});
