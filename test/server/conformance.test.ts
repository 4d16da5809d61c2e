// The MCP conformance suite (@modelcontextprotocol/conformance 0.1.13, which runs on
// Node 20) against `toolport serve --http` with a module plugin providing the suite's
// fixture tools and prompts. Every tools, prompts, ping, initialize and DNS-rebinding scenario must pass;
// the scenarios toolport fails on purpose are listed, with reasons, in the baseline.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { repoRoot, startHttpServer, type RunningServer } from '../helpers/toolport-process.js';

const run = promisify(execFile);
const conformance = join(repoRoot, 'node_modules', '.bin', 'conformance');
const config = fileURLToPath(new URL('../fixtures/conformance/toolport.yaml', import.meta.url));
const baseline = fileURLToPath(new URL('../fixtures/conformance/expected-failures.yml', import.meta.url));

describe('MCP conformance suite', () => {
  let http: RunningServer;
  const results = useTempDir('toolport-conformance-', 'all');
  beforeAll(async () => {
    http = await startHttpServer(['--config', config]);
  });
  afterAll(async () => {
    await http?.stop();
  });

  it('passes every scenario except the listed expected failures', { timeout: 240_000 }, async () => {
    // The DNS-rebinding scenario needs a localhost URL.
    const url = `${http.url.replace('127.0.0.1', 'localhost')}/mcp`;
    const outcome = await run(conformance, ['server', '--url', url, '--expected-failures', baseline, '-o', results.path], {
      cwd: repoRoot,
      timeout: 220_000,
      maxBuffer: 64 * 1024 * 1024,
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: `${error.stdout}\n${error.stderr}` }),
    );
    const summary = outcome.stdout.slice(outcome.stdout.indexOf('=== SUMMARY ==='));
    expect(outcome.code, summary).toBe(0);
    for (const scenario of [
      'server-initialize',
      'ping',
      'tools-list',
      'tools-call-simple-text',
      'tools-call-error',
      'tools-call-with-progress',
      'tools-call-elicitation',
      'tools-call-sampling',
      'prompts-get-simple',
      'prompts-get-with-args',
      'prompts-get-embedded-resource',
      'prompts-get-with-image',
      'dns-rebinding-protection',
    ]) {
      expect(summary).toMatch(new RegExp(`✓ ${scenario}: \\d+ passed, 0 failed`));
    }
  });
});
