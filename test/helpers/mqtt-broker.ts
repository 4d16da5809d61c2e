// A real MQTT broker for tests, on a free loopback port; stop() ends it. Debian's
// mosquitto when it is installed (.ci/run installs it), else aedes, a broker written for
// Node (a dev dependency), so the event-stream tests run on a machine with only Node.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface Broker {
  readonly url: string;
  readonly port: number;
  /** Which broker runs: mosquitto, or aedes in this process. */
  readonly name: 'mosquitto' | 'aedes';
  stop(): Promise<void>;
}

/** mosquitto's path, if installed (Debian puts it in /usr/sbin, which is not on every user's PATH). */
function findMosquitto(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'mosquitto');
    if (spawnSync('test', ['-x', candidate]).status === 0) return candidate;
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function startMosquitto(binary: string, port: number): Promise<Broker> {
  const dir = await mkdtemp(join(tmpdir(), 'toolport-mosquitto-'));
  const config = join(dir, 'mosquitto.conf');
  await writeFile(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', ''].join('\n'));
  const child = spawn(binary, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${stderr}`);
    if (await canConnect(port)) break;
    if (attempt > 100) {
      child.kill('SIGKILL');
      throw new Error(`mosquitto did not listen on ${port} in 5 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let stopping: Promise<void> | undefined;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    name: 'mosquitto',
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null) child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(killer);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

async function startAedes(port: number): Promise<Broker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket.once('close', () => sockets.delete(socket)));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  let stopping: Promise<void> | undefined;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    name: 'aedes',
    stop() {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return stopping;
    },
  };
}

/** mosquitto where installed, unless `use` or TOOLPORT_TEST_MQTT=aedes asks for the Node broker. */
function chooseMosquitto(use?: 'aedes'): string | undefined {
  return use === 'aedes' || process.env.TOOLPORT_TEST_MQTT === 'aedes' ? undefined : findMosquitto();
}

/** Which broker startBroker runs, and why, for test names. */
export function brokerName(): string {
  return chooseMosquitto() ? 'mosquitto' : 'aedes (a broker in Node; mosquitto not installed or not chosen)';
}

/** Starts a broker on `port` (default: a free one) and waits until it accepts connections. */
export async function startBroker(options: { port?: number; use?: 'aedes' } = {}): Promise<Broker> {
  const port = options.port ?? (await freePort());
  const mosquitto = chooseMosquitto(options.use);
  return mosquitto ? startMosquitto(mosquitto, port) : startAedes(port);
}
