// A real MQTT broker for tests: Debian's mosquitto on a free loopback port, with its own
// config in a temp folder; stop() ends it. Install it with `apt-get install mosquitto`.
import { spawn } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface Broker {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

async function findMosquitto(): Promise<string> {
  // Debian puts the broker in /usr/sbin, which is not on every user's PATH.
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'mosquitto');
    try {
      await access(candidate);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error('mosquitto not found: install it (apt-get install mosquitto); .ci/run does');
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

/** Starts mosquitto on `port` (default: a free one) and waits until it accepts connections. */
export async function startMosquitto(port?: number): Promise<Broker> {
  const binary = await findMosquitto();
  const chosen = port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'toolport-mosquitto-'));
  const config = join(dir, 'mosquitto.conf');
  await writeFile(config, [`listener ${chosen} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', ''].join('\n'));
  const child = spawn(binary, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${stderr}`);
    if (await canConnect(chosen)) break;
    if (attempt > 100) {
      child.kill('SIGKILL');
      throw new Error(`mosquitto did not listen on ${chosen} in 5 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let stopping: Promise<void> | undefined;
  return {
    url: `mqtt://127.0.0.1:${chosen}`,
    port: chosen,
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
