// Runs the Carter-style fixture API (test/fixtures/http/carter-api.mjs) as a real process
// on a free loopback port, and reads back what it received.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const fixturePath = fileURLToPath(new URL('../../fixtures/http/carter-api.mjs', import.meta.url));

export interface RecordedRequest {
  method: string;
  path: string;
  secretHeader: string | null;
  cacheControl: string | null;
  contentType: string | null;
  body: { relationship_token?: unknown; data?: Record<string, unknown> } | null;
  aborted: boolean;
  finished: boolean;
  hugeBytesWritten?: number;
}

export interface CarterApi {
  readonly origin: string;
  readonly pid: number;
  /** URL of one of the fixture's manifests: contract, calls or faults. */
  manifestUrl(name: 'contract' | 'calls' | 'faults'): string;
  requests(): Promise<RecordedRequest[]>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCarterApi(options: { secret?: string } = {}): Promise<CarterApi> {
  const args = [fixturePath, ...(options.secret !== undefined ? ['--secret', options.secret] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the fixture API did not start in 10 s')), 10_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`the fixture API exited with ${code}`)));
  });
  return {
    origin,
    pid: child.pid ?? -1,
    manifestUrl: (name) => `${origin}/manifests/${name}.json`,
    async requests() {
      return (await (await fetch(`${origin}/_test/requests`)).json()) as RecordedRequest[];
    },
    async reset() {
      await (await fetch(`${origin}/_test/reset`)).text();
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
