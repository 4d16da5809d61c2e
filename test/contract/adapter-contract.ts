// The contract every plugin kind passes: a fixture plugin with tools echo, fail, crash
// and hang, driven through the real pipeline (registry, argument check, adapter, result
// mapping). Kind-specific tests live beside each adapter's own tests.
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PluginKind } from '../../src/core/plugin.js';
import { parseConfig } from '../../src/config/load.js';
import { ErrorCode, isToolportError } from '../../src/core/errors.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { callTool } from '../helpers/call-tool.js';
import { createToolport, type Toolport } from '../../src/toolport.js';
import { textOf, waitForFile } from '../helpers/wait.js';
import { isRunning } from '../../src/core/process-tree.js';

export interface ContractFixture {
  kind: PluginKind;
  /**
   * Config block of a plugin exposing tools named echo, fail, crash and hang (plus any
   * kind-specific keys). `scratch` is the folder the hang tool's markers go to (grant it).
   */
  plugin: (scratch: string) => Record<string, unknown> & { path: string };
  /** The plugin id the tools are prefixed with. */
  pluginId: string;
  /** Arguments of echo for a text; default `{ text }`. */
  echoArgs?: (text: string) => Record<string, unknown>;
  /** Arguments of hang for a marker file; default `{ marker }`. */
  hangArgs?: (marker: string) => Record<string, unknown>;
  /** Set when the plugin cannot report that it saw the abort, with the reason. */
  abortNotObservable?: string;
  /** Process ids the plugin has running now, for the orphan check after close. */
  livePids?: () => Promise<number[]>;
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
}

async function settle(toolport: Toolport, name: string, args: unknown, signal?: AbortSignal): Promise<CallToolResult> {
  return callTool(toolport, name, args, signal ? { signal } : {});
}


export function describeAdapterContract(fixture: ContractFixture): void {
  describe(`adapter contract: ${fixture.kind}`, () => {
    let toolport: Toolport;
    const scratch = useTempDir(`toolport-contract-${fixture.kind}-`, 'all');
    const tool = (name: string): string => `${fixture.pluginId}__${name}`;
    const echoArgs = fixture.echoArgs ?? ((text: string) => ({ text }));
    const hangArgs = fixture.hangArgs ?? ((marker: string) => ({ marker }));

    beforeAll(async () => {
      await fixture.setup?.();
      // The fixtures change nothing outside toolport; the config says so (their formats cannot).
      const config = parseConfig({ plugins: [{ ...fixture.plugin(scratch.path), kind: fixture.kind, timeoutSeconds: 1.5, readOnly: ['*'] }] });
      toolport = await createToolport(config);
      // Info lines (how a plugin runs, e.g. its sandbox) are not problems; nor is the warning
      // of `sandbox: off` where a test must run without bubblewrap.
      expect(toolport.diagnostics.filter((diagnostic) => diagnostic.level !== 'info' && !diagnostic.message.includes(': sandbox: off'))).toEqual([]);
    });

    afterAll(async () => {
      await toolport?.close();
      await fixture.teardown?.();
    });

    it('lists the fixture tools under the plugin prefix', () => {
      const names = toolport.listTools().map((entry) => entry.name);
      expect(names).toEqual(expect.arrayContaining(['echo', 'fail', 'crash', 'hang'].map(tool)));
      for (const entry of toolport.listTools()) {
        expect(entry.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
        expect(entry.mcpTool.inputSchema.type).toBe('object');
      }
    });

    it('echo: answers with the text, unicode intact', async () => {
      const result = await settle(toolport, tool('echo'), echoArgs('hello, wörld 🌍'));
      expect(result.isError).toBeUndefined();
      expect(textOf(result)).toContain('hello, wörld 🌍');
    });

    it('echo: several calls in flight each get their own answer', async () => {
      const texts = Array.from({ length: 8 }, (_, index) => `call-${index}`);
      const results = await Promise.all(texts.map((text) => settle(toolport, tool('echo'), echoArgs(text))));
      results.forEach((result, index) => expect(textOf(result)).toContain(texts[index]));
    });

    it('fail: the plugin reports a failure → isError, fallback suggestions kept', async () => {
      const result = await settle(toolport, tool('fail'), {});
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/Fallback suggestions:\n- check the spelling\n- try a nearby city/);
    });

    it('crash: a clean isError result, and the next call works', async () => {
      const result = await settle(toolport, tool('crash'), {});
      expect(result.isError).toBe(true);
      expect(textOf(result).length).toBeGreaterThan(0);
      expect(textOf(result)).not.toMatch(/\n\s+at /); // no stack trace for the model
      const next = await settle(toolport, tool('echo'), echoArgs('still here'));
      expect(next.isError).toBeUndefined();
      expect(textOf(next)).toContain('still here');
    });

    it('hang: times out with a clear message, and the plugin sees the abort', async () => {
      const marker = join(scratch.path, 'timeout-marker');
      const started = Date.now();
      const result = await settle(toolport, tool('hang'), hangArgs(marker));
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/timed out after 1\.5 s/);
      expect(Date.now() - started).toBeLessThan(5_000);
      if (!fixture.abortNotObservable) expect(await waitForFile(marker, 5_000)).toBe('aborted');
      const next = await settle(toolport, tool('echo'), echoArgs('after timeout'));
      expect(textOf(next)).toContain('after timeout');
    });

    it('hang: client cancellation stops the call and reaches the plugin', async () => {
      const marker = join(scratch.path, 'cancel-marker');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const started = Date.now();
      const error = await toolport.call(tool('hang'), hangArgs(marker), { signal: controller.signal }).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(isToolportError(error) && error.code).toBe(ErrorCode.CallCancelled);
      expect(Date.now() - started).toBeLessThan(1_400);
      if (!fixture.abortNotObservable) expect(await waitForFile(marker, 5_000)).toBe('aborted');
    });

    it('close: idempotent, and nothing keeps running', async () => {
      const before = (await fixture.livePids?.()) ?? [];
      await Promise.all([toolport.close(), toolport.close()]);
      await toolport.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      // A zombie is not running: it only waits for its (new) parent to reap it.
      for (const pid of before) expect(await isRunning(pid), `process ${pid} survived close()`).toBe(false);
      if (fixture.livePids) expect(await fixture.livePids()).toEqual([]);
      const refused = await settle(toolport, tool('echo'), echoArgs('late'));
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/shutting down/);
    });
  });
}
