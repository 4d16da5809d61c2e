// `npm start` as the Quick start runs it: the command of package.json's start script (its
// prestart build is the one `npm test` ran already), on a free port. Every connection line
// it prints is launched exactly as printed by a real SDK client, which lists the tools and
// calls the Trailhead example: over HTTP it reaches the running server; over stdio each
// launch starts its own toolport, with its own example API beside it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedStateEnv, repoRoot } from './helpers/toolport-process.js';

let start: ChildProcess;
let printed = '';
let stderr = '';

beforeAll(async () => {
  const { scripts } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
  // Its own process group, so the whole tree (sh, the launcher, toolport, the API) can be stopped.
  start = spawn('sh', ['-c', scripts.start], { cwd: repoRoot, env: { ...env, TOOLPORT_PORT: '0' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  start.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no connection lines in 60 s:\n${printed}\n${stderr}`)), 60_000);
    start.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      printed += chunk;
      if (printed.includes('Press Ctrl+C to stop.')) {
        clearTimeout(timer);
        resolve();
      }
    });
    start.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${stderr}`)));
  });
}, 90_000);

afterAll(async () => {
  if (start?.pid === undefined || start.exitCode !== null) return;
  const exited = new Promise((resolve) => start.once('exit', resolve));
  process.kill(-start.pid, 'SIGTERM');
  await exited;
});

/** The text after a label on the line that has it. */
function lineAfter(label: string): string {
  const line = printed.split('\n').find((text) => text.trimStart().startsWith(label));
  if (!line) throw new Error(`no "${label}" line in:\n${printed}`);
  return line.slice(line.indexOf(label) + label.length).trim();
}

/**
 * What a desktop client passes a server it launches (HOME, PATH, USER, …) and the test's own
 * state folder, so the launched toolport's pins stay out of the real home's state folder.
 */
function clientEnvironment(): Record<string, string> {
  return { ...getDefaultEnvironment(), ...isolatedStateEnv() };
}

async function listAndCall(transport: Transport): Promise<void> {
  const client = new Client({ name: 'toolport-start-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['notebook__text_stats', 'trailhead__trail_report', 'bakery__menu', 'examples_reading_list__save_link']));
    const report = await client.callTool({ name: 'trailhead__trail_report', arguments: { trail: 'ridge_loop' } });
    expect(report.isError).toBeFalsy();
    expect(report.structuredContent).toMatchObject({ name: 'Ridge Loop' });
  } finally {
    await client.close();
  }
}

describe('the connection lines npm start prints', () => {
  it('Claude Code over HTTP: the URL of `claude mcp add --transport http`', async () => {
    const url = /^claude mcp add --transport http toolport (\S+)$/.exec(lineAfter('Claude Code (HTTP):'))?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    await listAndCall(new StreamableHTTPClientTransport(new URL(url ?? '')));
  });

  it('.mcp.json over HTTP', async () => {
    const { mcpServers } = JSON.parse(lineAfter('.mcp.json (HTTP):')) as { mcpServers: { toolport: { type: string; url: string } } };
    expect(mcpServers.toolport.type).toBe('http');
    await listAndCall(new StreamableHTTPClientTransport(new URL(mcpServers.toolport.url)));
  });

  it('Claude Desktop over stdio: the command and args, with a client\'s bare environment', async () => {
    const lines = printed.split('\n');
    const desktop = lines[lines.findIndex((line) => line.includes('Claude Desktop (stdio')) + 1]?.trim() ?? '';
    const { command, args } = (JSON.parse(desktop) as { mcpServers: { toolport: { command: string; args: string[] } } }).mcpServers.toolport;
    await listAndCall(new StdioClientTransport({ command, args, env: clientEnvironment(), stderr: 'pipe' }));
  });

  it('Claude Code over stdio: the command line after `--`, run by a shell as written', async () => {
    const commandLine = /^claude mcp add toolport -- (.+)$/.exec(lineAfter('Claude Code (stdio):'))?.[1];
    expect(commandLine).toBeDefined();
    await listAndCall(new StdioClientTransport({ command: 'sh', args: ['-c', `exec ${commandLine ?? ''}`], env: clientEnvironment(), stderr: 'pipe' }));
  });
});
