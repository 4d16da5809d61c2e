// Runs the built CLI in a fresh process and collects its exit code and output, whatever the
// exit code (the tests look at both).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { binPath, repoRoot } from './toolport-process.js';

const run = promisify(execFile);

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Added to this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** argv put in front of node, e.g. `setpriv …` to run as another user. */
  readonly prefix?: readonly string[];
  readonly timeoutMs?: number;
}

export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const argv = [...(options.prefix ?? []), process.execPath, binPath, ...args];
  try {
    const { stdout, stderr } = await run(argv[0] as string, argv.slice(1), { cwd: repoRoot, env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
