// Network isolation: a skill without a network grant cannot reach a port listening on the
// host's loopback, whether or not it declares `internet`; one the config grants network can.
// Also as an unprivileged user (bubblewrap in a user namespace), through the CLI.
import { spawnSync } from 'node:child_process';
import { chmod, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { callTool } from '../../helpers/call-tool.js';
import { createToolport, type Toolport } from '../../../src/toolport.js';
import { binPath } from '../../helpers/toolport-process.js';
import { runCli, type CliResult } from '../../helpers/run-cli.js';
import { makeScratch, sandboxWorks, textOf, writeSkill } from './helpers.js';
import { needsBwrap } from '../../helpers/sandbox.js';


const connectScript = `import { connect } from 'node:net';
const socket = connect({ host: '127.0.0.1', port: Number(process.argv[2]) });
socket.setTimeout(3000, () => { console.log('failed: timeout'); process.exit(1); });
socket.on('connect', () => { console.log('connected'); socket.end(); });
socket.on('error', (error) => { console.log('failed: ' + error.code); process.exit(1); });
`;

function works(argv: string[]): boolean {
  const [file, ...args] = argv as [string, ...string[]];
  return spawnSync(file, args, { stdio: 'ignore' }).status === 0;
}

const isRoot = process.getuid?.() === 0;
// Running the CLI as nobody needs root (to switch) and a checkout nobody can read.
const hasSetpriv = isRoot && works(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, binPath, '--version']);

let root: string;
let server: Server;
let port: number;
let connections = 0;
const skills = { offline: '', online: '', granted: '' };

/** Runs the built CLI in a fresh process (as another user with `prefix`). */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, prefix: string[] = []): Promise<CliResult> {
  return runCli(args, { env, prefix, timeoutMs: 20_000 });
}

beforeAll(async () => {
  root = await makeScratch('net');
  // Readable by others, for the run as an unprivileged user.
  await chmod(root, 0o755);
  server = createServer((socket) => {
    connections += 1;
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  const tool = `[tools.connect]\ncommand = ${JSON.stringify(process.execPath)}\nargs = ["connect.mjs", "$port"]\n`;
  skills.offline = await writeSkill(root, 'offline', { agentToml: tool, files: { 'connect.mjs': connectScript } });
  skills.online = await writeSkill(root, 'online', {
    skillMd: '---\nname: online\nmetadata:\n  evoclaw:\n    permissions: [internet]\n---\n',
    agentToml: tool,
    files: { 'connect.mjs': connectScript },
  });
  skills.granted = await writeSkill(root, 'granted', { agentToml: tool, files: { 'connect.mjs': connectScript } });
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(!sandboxWorks)(`command skills: network isolation${needsBwrap}`, () => {
  let toolport: Toolport;

  beforeAll(async () => {
    toolport = await createToolport(
      parseConfig({
        plugins: [
          { path: skills.offline, readOnly: ['*'] },
          { path: skills.online, grants: { network: true }, readOnly: ['*'] },
          { path: skills.granted, grants: { network: true }, readOnly: ['*'] },
          { path: skills.online, id: 'ungranted', readOnly: ['*'] },
        ],
      }),
    );
  });

  afterAll(async () => {
    await toolport?.close();
  });

  it('says how each skill runs', () => {
    // (Skills without a description are not served through the skills extension; check says so, too.)
    const info = toolport.diagnostics.filter((d) => d.level === 'info' && !d.message.startsWith('skills extension:')).map((d) => d.message);
    const files = (dir: string): string => `files: ${dir} (ro), system folders (ro), private /tmp`;
    // Plugins load at once, so their lines come in any order.
    expect([...info].sort()).toEqual([
      `plugins[0] ${skills.offline}: sandbox: bubblewrap, new pid/mount/ipc/uts/net namespaces; network: none; ${files(skills.offline)}`,
      `plugins[1] ${skills.online}: sandbox: bubblewrap, new pid/mount/ipc/uts namespaces; network: allowed (granted); ${files(skills.online)}`,
      `plugins[2] ${skills.granted}: sandbox: bubblewrap, new pid/mount/ipc/uts namespaces; network: allowed (granted); ${files(skills.granted)}`,
      `plugins[3] ${skills.online}: sandbox: bubblewrap, new pid/mount/ipc/uts/net namespaces; network: none; ${files(skills.online)}; ` +
        'SKILL.md declares "internet", so calls are refused until plugins[3].grants.network: true',
    ]);
    const byName = new Map(toolport.listTools().map((tool) => [tool.name, tool.mcpTool._meta?.['toolport/command']]));
    expect(byName.get('offline__connect')).toMatchObject({ network: 'none' });
    expect(byName.get('online__connect')).toMatchObject({ network: 'allowed' });
  });

  it('a skill without "internet" cannot connect to a port listening on the host loopback', async () => {
    const before = connections;
    const result = await callTool(toolport, 'offline__connect', { port: String(port) });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/failed: (ENETUNREACH|ECONNREFUSED|EADDRNOTAVAIL)/);
    expect(connections).toBe(before);
  });

  it('a skill that is granted network can, whether or not it declares "internet"', async () => {
    for (const name of ['online__connect', 'granted__connect']) {
      const before = connections;
      const result = await callTool(toolport, name, { port: String(port) });
      expect(textOf(result), name).toBe('connected\n');
      expect(result.isError).toBeUndefined();
      expect(connections, name).toBe(before + 1);
    }
  });

  it('a skill that declares "internet" without the grant is refused, and would be isolated anyway', async () => {
    const before = connections;
    const result = await callTool(toolport, 'ungranted__connect', { port: String(port) });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('plugins[3].grants.network: true');
    expect(connections).toBe(before);
    expect(toolport.registry.get('ungranted__connect')?.mcpTool._meta?.['toolport/command']).toMatchObject({ network: 'none' });
  });

  it('toolport check reports the sandbox in use', async () => {
    const { code, stdout, stderr } = await cli(['check', skills.offline, skills.online]);
    expect(code).toBe(0);
    expect(stdout).toBe('ok: 2 tools\n');
    expect(stderr).toMatch(/^info: plugins\[0\] .*\/offline: sandbox: bubblewrap, new pid\/mount\/ipc\/uts\/net namespaces; network: none; /m);
    expect(stderr).toMatch(/^info: plugins\[1\] .*\/online: sandbox: .*; network: none; .*; SKILL\.md declares "internet", so calls are refused/m);
  });

  it('the server log says which bubblewrap it uses', async () => {
    const { stderr } = await cli(['list', skills.offline, '--log-level', 'info']);
    expect(stderr).toMatch(/"msg":"sandbox: bubblewrap \(\/[^"]*bwrap\)"/);
  });
});

describe.skipIf(!hasSetpriv || !sandboxWorks)(`command skills: as an unprivileged user (needs root, and a checkout readable by nobody)${needsBwrap}`, () => {
  it('isolates with bubblewrap in a user namespace, or refuses saying why', async () => {
    const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    // nobody cannot write HOME here; its state goes to a folder of its own.
    // (TOOLPORT_CACHE_DIR emptied: the test setup points it at this user's cache.)
    const env = { HOME: root, TOOLPORT_STATE_DIR: join(tmpdir(), `toolport-nobody-${process.pid}`), TOOLPORT_CACHE_DIR: '' };
    const check = await cli(['check', skills.offline], env, nobody);
    // Where unprivileged user namespaces are off, bwrap cannot work for nobody: then toolport refuses.
    if (check.code !== 0) {
      expect(check.stderr).toMatch(/bubblewrap \(.*\) cannot create a sandbox here \(.+\); toolport runs command skills inside it/);
      return;
    }
    expect(check.stderr).toMatch(/sandbox: bubblewrap, new pid\/mount\/ipc\/uts\/net namespaces; network: none/);
    const before = connections;
    const call = await cli(['call', 'offline__connect', JSON.stringify({ port: String(port) }), skills.offline, '--approve'], env, nobody);
    expect(call.stdout).toMatch(/failed: (ENETUNREACH|ECONNREFUSED)/);
    expect(connections).toBe(before);
  });
});
