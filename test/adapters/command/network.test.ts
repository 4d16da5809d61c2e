// Network isolation: a skill without the `internet` permission cannot reach a port listening on
// the host's loopback; one that declares it (or is granted network in the config) can. The
// sandbox is detected once per process, so the wrapper variants run the CLI in a fresh process.
import { execFile, spawnSync } from 'node:child_process';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { callTool } from '../../helpers/call-tool.js';
import { createToolport, type Toolport } from '../../../src/toolport.js';
import { binPath, repoRoot } from '../../helpers/toolport-process.js';
import { isolationAvailable, makeScratch, textOf, writeSkill } from './helpers.js';

const run = promisify(execFile);

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
const hasBwrap = process.platform === 'linux' && works(['bwrap', '--dev-bind', '/', '/', '--unshare-net', 'true']);
// Running the CLI as nobody needs root (to switch) and a checkout nobody can read.
const hasSetpriv = isRoot && works(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, binPath, '--version']);

let root: string;
let server: Server;
let port: number;
let connections = 0;
const skills = { offline: '', online: '', granted: '' };

/** Runs the built CLI in a fresh process; resolves with its exit code and output. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}, prefix: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = [...prefix, process.execPath, binPath, ...args];
  try {
    const { stdout, stderr } = await run(argv[0] as string, argv.slice(1), { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
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

describe.skipIf(!isolationAvailable)('command skills: network isolation (needs unshare or bwrap to work here)', () => {
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
    const info = toolport.diagnostics.filter((d) => d.level === 'info').map((d) => d.message);
    expect(info).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\/offline: network: none \(isolated with (unshare|bwrap) .*\)$/),
        `plugins[1] ${skills.online}: network: allowed (granted by the config; SKILL.md declares "internet")`,
        `plugins[2] ${skills.granted}: network: allowed (granted by the config)`,
        expect.stringMatching(
          /^plugins\[3\] .*\/online: network: none \(isolated with .*\); SKILL\.md declares "internet", so calls are refused until the config grants network \(grants: \{ network: true \}\)$/,
        ),
      ]),
    );
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
    expect(stderr).toMatch(/^info: plugins\[0\] .*\/offline: network: none \(isolated with (unshare|bwrap) /m);
    expect(stderr).toMatch(/^info: plugins\[1\] .*\/online: network: none \(isolated with .*\); SKILL\.md declares "internet", so calls are refused/m);
  });

  it('the server log says what isolation this host supports', async () => {
    const { stderr } = await cli(['list', skills.offline, '--log-level', 'info']);
    expect(stderr).toMatch(/"msg":"network isolation: (unshare|bwrap) [^"]*"/);
  });
});

describe('command skills: without network isolation', () => {
  it('refuses a skill that would need it (fail closed), says how to allow it, and keeps the granted ones', async () => {
    const env = { TOOLPORT_SANDBOX: 'none' };
    const config = join(root, 'no-sandbox.yaml');
    await writeFile(config, `plugins:\n  - path: ${skills.offline}\n  - path: ${skills.granted}\n    grants: { network: true }\n`);
    const check = await cli(['check', '--config', config], env);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(
      `error: plugins[0] ${skills.offline}: network isolation is unavailable here (disabled by TOOLPORT_SANDBOX=none), and the config does not grant this skill network, so toolport will not run it; to run it with network, grant it in the config (grants: { network: true })`,
    );
    expect(check.stderr).toContain(`info: plugins[1] ${skills.granted}: network: allowed (granted by the config)`);
    expect(check.stdout).toBe('1 error; 1 tools usable\n');
    const log = await cli(['list', '--config', config, '--log-level', 'info'], env);
    expect(log.stderr).toContain('"msg":"network isolation unavailable: disabled by TOOLPORT_SANDBOX=none"');
  });
});

describe.skipIf(!hasBwrap)('command skills: bubblewrap (needs bwrap; .ci/run installs it)', () => {
  it('isolates with bwrap when asked to', async () => {
    const env = { TOOLPORT_SANDBOX: 'bwrap' };
    const check = await cli(['check', skills.offline], env);
    expect(check.stderr).toMatch(/network: none \(isolated with bwrap --dev-bind \/ \/ --unshare-net --die-with-parent\)/);
    const before = connections;
    // The person running the command approves the call (a skill cannot say it only reads).
    const call = await cli(['call', 'offline__connect', JSON.stringify({ port: String(port) }), skills.offline, '--approve'], env);
    expect(call.code).toBe(1);
    expect(call.stdout).toMatch(/failed: (ENETUNREACH|ECONNREFUSED)/);
    expect(connections).toBe(before);
  });
});

describe.skipIf(!hasSetpriv)('command skills: as an unprivileged user (needs root, and a checkout readable by nobody)', () => {
  it('isolates with a user namespace', async () => {
    const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    // nobody cannot write HOME here; its state goes to a folder of its own.
    const env = { HOME: root, TOOLPORT_SANDBOX: 'auto', TOOLPORT_STATE_DIR: join(tmpdir(), `toolport-nobody-${process.pid}`) };
    const check = await cli(['check', skills.offline], env, nobody);
    expect(check.stderr).toMatch(/network: none \(isolated with (unshare --map-current-user --net|unshare --map-root-user --net|bwrap .*)\)/);
    const before = connections;
    const call = await cli(['call', 'offline__connect', JSON.stringify({ port: String(port) }), skills.offline, '--approve'], env, nobody);
    expect(call.stdout).toMatch(/failed: (ENETUNREACH|ECONNREFUSED)/);
    expect(connections).toBe(before);
  });
});
