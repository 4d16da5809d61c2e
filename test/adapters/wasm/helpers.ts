// Shared helpers of the wasm adapter tests: fixture paths, a toolport over real
// components with a log that tests can read, and result shaping as MCP clients see it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import { callTool } from '../../helpers/call-tool.js';
import { createCapturingLogger, type CapturingLogger } from '../../helpers/capturing-logger.js';
import { createToolport, type ToolCallOptions, type Toolport } from '../../../src/toolport.js';
import { fixturesDir } from '../../fixtures/wasm/build.js';

export const kitchenWasm = join(fixturesDir, 'kitchen', 'kitchen.wasm');

/** One transpile cache for all tests: the kitchen component takes seconds to transpile. */
export const sharedCacheDir = join(tmpdir(), 'toolport-wasm-test-cache');

export { createCapturingLogger, type CapturingLogger, type LogRecord } from '../../helpers/capturing-logger.js';

export interface TestToolport {
  toolport: Toolport;
  log: CapturingLogger;
  stateDir: string;
  call: (name: string, args?: unknown, options?: ToolCallOptions) => Promise<CallToolResult>;
  close: () => Promise<void>;
}

/** A toolport over the given plugin blocks, with its own state folder and a readable log. */
export async function startToolport(
  plugins: Record<string, unknown>[],
  options: { stateDir?: string; keepState?: boolean; config?: Record<string, unknown> } = {},
): Promise<TestToolport> {
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'toolport-wasm-state-')));
  const log = createCapturingLogger();
  // The fixtures change nothing outside toolport; the config says so (WIT cannot).
  const config = parseConfig({ ...options.config, plugins: plugins.map((plugin) => ({ kind: 'wasm', cacheDir: sharedCacheDir, readOnly: ['*'], ...plugin })) });
  const toolport = await createToolport(config, { logger: log.logger, stateDir });
  return {
    toolport,
    log,
    stateDir,
    call: (name, args = {}, callOptions = {}) => callTool(toolport, name, args, callOptions),
    close: async () => {
      await toolport.close();
      if (!options.keepState && options.stateDir === undefined) await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** The structured return value of a call (`structuredContent.result`). */
export function resultOf(result: CallToolResult): unknown {
  return (result.structuredContent as { result?: unknown } | undefined)?.result;
}

export function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

/** Writes a toolport.yaml for the CLI into a fresh folder; returns its path. */
export async function writeConfig(config: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'toolport-wasm-config-'));
  const file = join(dir, 'toolport.yaml');
  // Test configs are not about approvals: tools that do not say whether they change anything run.
  await writeFile(file, stringify({ policy: { unknownSideEffects: 'allow' }, ...config }));
  return file;
}

/** CPU time this process used over `ms` milliseconds, as a fraction of one core. */
export async function cpuLoadOver(ms: number): Promise<number> {
  const before = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / (performance.now() - started);
}
