// The command line: serve, list, call, check. Parses arguments, loads the config and
// plugins, and hands over to the server or prints results. Exit codes: 0 ok, 1 a
// check or call failed, 2 bad usage or config.
import { access, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isInputRequiredResult, type CallToolResult } from '@modelcontextprotocol/server';
import { loadConfigFile, parseConfig, withPluginPaths } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ErrorCode, ToolportError, isToolportError } from '../core/errors.js';
import { createLogger, logLevels, type LogLevel, type Logger } from '../core/logger.js';
import { createSecretSet } from '../core/redact.js';
import { createToolport, type Toolport } from '../toolport.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const binPath = join(packageRoot, 'bin', 'toolport.js');

const usage = `toolport: serve plugins written for other agent platforms as MCP tools

Usage:
  toolport serve [PATH...] [--config FILE] [--stdio | --http [--port N] [--host H]]
  toolport list  [PATH...] [--config FILE] [--json]
  toolport call  TOOL [JSON_ARGS] [PATH...] [--config FILE] [--json]
  toolport check [PATH...] [--config FILE]
  toolport policy explain TOOL [JSON_ARGS] [PATH...] [--config FILE] [--principal P]
  toolport approvals list [--config FILE | --url URL]
  toolport approvals approve ID [--session] [--config FILE | --url URL]
  toolport approvals reject ID [--reason TEXT] [--config FILE | --url URL]

PATH is a plugin file or folder; its kind is detected (.wasm, .py, a folder with
agent.toml, a Carter .json manifest, a .js/.mjs/.ts module; a folder of those).
Without PATH or --config, ./toolport.yaml (or .yml, .json) is used.

Options:
  -c, --config FILE     config file (YAML or JSON)
      --stdio           serve over stdin/stdout (the default)
      --http            serve Streamable HTTP at /mcp and legacy SSE at /sse
      --port N          HTTP port (default: server.http.port, 8808)
      --host H          HTTP bind address (default: server.http.host, 127.0.0.1)
      --json            machine-readable output (list, call, policy explain, approvals list)
      --approve         call: you approve the call yourself if the policy asks for approval
      --principal P     policy explain: decide as this principal (default: local)
      --url URL         approvals: the admin endpoint (default: from approvals.admin in the config)
      --session         approvals approve: also approve this exact call for the rest of its session
      --reason TEXT     approvals reject: the reason the model is told
      --log-level L     fatal, error, warn, info, debug, trace or silent (default: info)
  -h, --help            this help
  -v, --version         print the version
`;

class UsageError extends Error {}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

async function readVersion(): Promise<string> {
  const raw = await readFile(join(packageRoot, 'package.json'), 'utf8');
  return (JSON.parse(raw) as { version: string }).version;
}

async function findDefaultConfig(cwd: string): Promise<string | undefined> {
  for (const name of ['toolport.yaml', 'toolport.yml', 'toolport.json']) {
    const candidate = join(cwd, name);
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next name
    }
  }
  return undefined;
}

/**
 * The config to run with, and the folder relative paths in plugin blocks resolve against
 * (the config file's, else the working directory).
 */
async function resolveConfig(configFile: string | undefined, paths: readonly string[]): Promise<{ config: Config; baseDir: string }> {
  let file = configFile;
  if (file === undefined && paths.length === 0) {
    file = await findDefaultConfig(process.cwd());
    if (file === undefined) {
      throw new UsageError('nothing to serve: pass a plugin PATH or --config FILE (or create ./toolport.yaml)');
    }
  }
  const base = file ? (await loadConfigFile(file)).config : parseConfig({});
  return { config: withPluginPaths(base, paths), baseDir: file ? dirname(resolve(file)) : process.cwd() };
}

/** A toolport for a one-shot command (list, call, check, policy): no event stream. */
async function openToolport(values: ParsedValues, paths: readonly string[], defaultLevel: LogLevel): Promise<Toolport> {
  const logger = createLogger(parseLogLevel(values['log-level'], defaultLevel));
  const { config, baseDir } = await resolveConfig(values.config, paths);
  return createToolport(config, { logger, publishEvents: false, baseDir });
}

function parseLogLevel(value: string | undefined, fallback: LogLevel): LogLevel {
  if (value === undefined) return fallback;
  if ((logLevels as readonly string[]).includes(value)) return value as LogLevel;
  throw new UsageError(`--log-level: expected one of ${logLevels.join(', ')}, got "${value}"`);
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port: expected 0-65535, got "${value}"`);
  return port;
}

/** Prints problems (and, for `check`, the info lines saying how plugins run); returns the error count. */
function printDiagnostics(toolport: Toolport, io: Io, withInfo = false): number {
  let errors = 0;
  for (const diagnostic of toolport.diagnostics) {
    if (diagnostic.level === 'error') errors += 1;
    if (diagnostic.level === 'info' && !withInfo) continue;
    io.err(`${diagnostic.level}: ${diagnostic.message}\n`);
  }
  return errors;
}

function connectionHelp(url: string, paths: readonly string[], configFile: string | undefined): string {
  const serveArgs = [binPath, 'serve', ...paths.map((path) => resolve(path)), ...(configFile ? ['--config', resolve(configFile)] : []), '--stdio'];
  const desktop = { mcpServers: { toolport: { command: 'node', args: serveArgs } } };
  const project = { mcpServers: { toolport: { type: 'http', url: `${url}/mcp` } } };
  return [
    `toolport is serving at ${url}/mcp (legacy SSE at ${url}/sse)`,
    '',
    'Connect a client:',
    `  Claude Code:     claude mcp add --transport http toolport ${url}/mcp`,
    '  .mcp.json:       ' + JSON.stringify(project),
    '  Claude Desktop (stdio, in claude_desktop_config.json):',
    '                   ' + JSON.stringify(desktop),
    '',
    'Press Ctrl+C to stop.',
    '',
  ].join('\n');
}

async function runServe(values: ParsedValues, paths: string[], io: Io): Promise<number> {
  if (values.stdio && values.http) throw new UsageError('--stdio and --http exclude each other');
  const useHttp = values.http === true || values.port !== undefined || values.host !== undefined;
  const port = parsePort(values.port);
  const secrets = createSecretSet();
  const logger = createLogger(parseLogLevel(values['log-level'], 'info'), secrets);
  const { config, baseDir } = await resolveConfig(values.config, paths);
  guardProcess(logger);
  const toolport = await createToolport(config, { logger, secrets, baseDir });
  const admin = config.approvals.admin;
  const adminHandle =
    toolport.inbox && admin ? await (await import('../server/admin.js')).serveAdmin(toolport.inbox, logger, admin) : undefined;
  // Transport modules load only when used: stdio never pays for the HTTP stack.
  const { createServerHub } = await import('../server/mcp-server.js');
  const hub = createServerHub(toolport, { name: config.server.name, version: await readVersion() });

  let stopTransport: () => Promise<void>;
  let stopped: Promise<void>;
  if (useHttp) {
    const http = config.server.http;
    const { serveHttp } = await import('../server/http.js');
    const handle = await serveHttp(hub, logger, {
      host: values.host ?? http.host,
      port: port ?? http.port,
      tokens: http.auth.tokens,
      oauth: http.auth.oauth,
      serverName: config.server.name,
      allowedHosts: http.allowedHosts,
      maxSessions: http.maxSessions,
      maxSessionsPerPrincipal: http.maxSessionsPerPrincipal,
      sessionIdleMs: http.sessionIdleSeconds * 1000,
    });
    io.out(connectionHelp(`http://${values.host ?? http.host}:${handle.port}`, paths, values.config));
    stopTransport = () => handle.close();
    stopped = new Promise(() => {});
  } else {
    const { serveOverStdio } = await import('../server/stdio.js');
    const handle = serveOverStdio(hub, logger);
    stopTransport = () => handle.close();
    stopped = handle.closed;
  }

  const signalled = new Promise<string>((resolveSignal) => {
    const onSignal = (signal: string): void => {
      process.once(signal, () => {
        logger.warn('second signal: exiting now');
        process.exit(1);
      });
      resolveSignal(signal);
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
  });
  const reason = await Promise.race([signalled, stopped.then(() => 'stdin closed')]);
  logger.info({ reason }, 'shutting down');
  try {
    await stopTransport();
    await hub.close();
    await adminHandle?.close();
  } finally {
    await toolport.close();
  }
  return 0;
}

/** One misbehaving in-process plugin must not take the server down. */
function guardProcess(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection (from a plugin?); the server keeps running');
  });
  process.on('uncaughtException', (error) => {
    logger.error({ err: error }, 'uncaught exception (from a plugin?); the server keeps running');
  });
}

async function runList(values: ParsedValues, paths: string[], io: Io): Promise<number> {
  const toolport = await openToolport(values, paths, 'warn');
  try {
    const tools = toolport.listTools();
    if (values.json) {
      io.out(`${JSON.stringify({ tools: tools.map((tool) => tool.mcpTool), diagnostics: toolport.diagnostics }, null, 2)}\n`);
    } else {
      printDiagnostics(toolport, io);
      const width = Math.max(0, ...tools.map((tool) => tool.name.length));
      for (const tool of tools) {
        const summary = (tool.definition.description ?? '').split('\n')[0]?.slice(0, 100) ?? '';
        const asks = asksBecause(toolport, tool.name);
        io.out(`${tool.name.padEnd(width)}  ${summary}${asks ? `  [asks: ${asks}]` : ''}\n`);
      }
      if (tools.length === 0) io.err('no tools\n');
    }
    return 0;
  } finally {
    await toolport.close();
  }
}

function renderResult(result: CallToolResult): string {
  return result.content
    .map((block) => (block.type === 'text' ? block.text : JSON.stringify(block)))
    .join('\n');
}

async function runCall(values: ParsedValues, positionals: string[], io: Io): Promise<number> {
  const { tool, args, paths } = parseToolArgs(positionals, 'call');
  const toolport = await openToolport(values, paths, 'warn');
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    if (!toolport.registry.get(tool)) {
      printDiagnostics(toolport, io);
      const known = toolport.listTools().map((entry) => entry.name);
      throw new UsageError(`Unknown tool: ${tool}${known.length > 0 ? `; known tools: ${known.join(', ')}` : ''}`);
    }
    const answer = await toolport.callTool(tool, args, {
      signal: abort.signal,
      ...(values.approve && { approval: { preApproved: `command line (${process.env.USER ?? 'unknown user'})` } }),
    });
    // The command line offers no input_required round trip, so an answer is always a result.
    const result: CallToolResult = isInputRequiredResult(answer)
      ? { content: [{ type: 'text', text: `${tool} needs input this command line cannot give` }], isError: true }
      : answer;
    io.out(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderResult(result)}\n`);
    return result.isError ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    await toolport.close();
  }
}

async function runCheck(values: ParsedValues, paths: string[], io: Io): Promise<number> {
  const toolport = await openToolport(values, paths, 'silent');
  try {
    const errors = printDiagnostics(toolport, io, true);
    for (const tool of toolport.listTools()) {
      const asks = asksBecause(toolport, tool.name);
      if (asks) io.err(`info: ${tool.name} asks for approval before it runs (${asks})\n`);
    }
    const tools = toolport.listTools().length;
    io.out(errors === 0 ? `ok: ${tools} tool${tools === 1 ? '' : 's'}\n` : `${errors} error${errors === 1 ? '' : 's'}; ${tools} tools usable\n`);
    return errors === 0 ? 0 : 1;
  } finally {
    await toolport.close();
  }
}

/** Why a call of the tool (by the local principal, without arguments) asks for approval; undefined when it does not. */
function asksBecause(toolport: Toolport, name: string): string | undefined {
  const { decision } = toolport.explain(name, {});
  return decision.action === 'ask' ? decision.because : undefined;
}

/** Splits `TOOL [JSON_ARGS] [PATH...]`. */
function parseToolArgs(positionals: readonly string[], command: string): { tool: string; args: unknown; paths: string[] } {
  const [tool, maybeArgs, ...rest] = positionals;
  if (!tool) throw new UsageError(`${command}: name the tool, e.g. toolport ${command} notebook__add_note '{"text":"hi"}'`);
  if (maybeArgs === undefined) return { tool, args: {}, paths: rest };
  if (!maybeArgs.trimStart().startsWith('{')) return { tool, args: {}, paths: [maybeArgs, ...rest] };
  try {
    return { tool, args: JSON.parse(maybeArgs) as unknown, paths: rest };
  } catch (error) {
    throw new UsageError(`${command}: JSON_ARGS is not valid JSON (${(error as Error).message})`);
  }
}

async function runPolicy(values: ParsedValues, positionals: string[], io: Io): Promise<number> {
  const [sub, ...rest] = positionals;
  if (sub !== 'explain') throw new UsageError('policy: expected "policy explain TOOL [JSON_ARGS]"');
  const { tool, args, paths } = parseToolArgs(rest, 'policy explain');
  const toolport = await openToolport(values, paths, 'silent');
  try {
    const explanation = toolport.explain(tool, args, values.principal ?? 'local');
    if (values.json) {
      io.out(`${JSON.stringify(explanation, null, 2)}\n`);
    } else {
      const { decision } = explanation;
      io.out(`${tool}: ${decision.action}\n  because ${decision.because}${decision.reason ? `\n  reason: ${decision.reason}` : ''}\n`);
      for (const missing of explanation.missingGrants) io.out(`  refused anyway: missing grant ${missing}\n`);
    }
    return 0;
  } catch (error) {
    if (isToolportError(error) && error.code === ErrorCode.ToolNotFound) throw new UsageError(error.shortMessage);
    throw error;
  } finally {
    await toolport.close();
  }
}

async function runApprovals(values: ParsedValues, positionals: string[], io: Io): Promise<number> {
  const [sub, id] = positionals;
  if (sub !== 'list' && sub !== 'approve' && sub !== 'reject') {
    throw new UsageError('approvals: expected list, approve ID or reject ID');
  }
  if (sub !== 'list' && !id) throw new UsageError(`approvals ${sub}: name the approval ID (see toolport approvals list)`);
  const configFile = values.config ?? (await findDefaultConfig(process.cwd()));
  const admin = configFile ? (await loadConfigFile(configFile)).config.approvals.admin : undefined;
  const token = process.env.TOOLPORT_ADMIN_TOKEN ?? admin?.token;
  if (!token) throw new UsageError('approvals: no admin token; set approvals.admin.token in the config (--config FILE) or TOOLPORT_ADMIN_TOKEN');
  const base = values.url ?? (admin ? `http://${admin.host}:${admin.port}` : undefined);
  if (!base) throw new UsageError('approvals: no admin endpoint; pass --url or --config with approvals.admin');
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let response: Response;
  try {
    response =
      sub === 'list'
        ? await fetch(`${base}/approvals`, { headers })
        : await fetch(`${base}/approvals/${encodeURIComponent(id ?? '')}/${sub}`, {
            method: 'POST',
            headers,
            body: JSON.stringify({
              by: process.env.USER ?? 'cli',
              ...(values.session && { scope: 'session' }),
              ...(values.reason !== undefined && { reason: values.reason }),
            }),
          });
  } catch (error) {
    throw new UsageError(`approvals: cannot reach ${base} (${(error as Error).message}); is toolport serve running?`);
  }
  const body = (await response.json()) as { pending?: { id: string; tool: string; principal: string; arguments: unknown; expiresAt: string }[]; error?: string };
  if (!response.ok) {
    io.err(`toolport: ${body.error ?? `HTTP ${response.status}`}\n`);
    return 1;
  }
  if (sub !== 'list') {
    io.out(`${id}: ${sub === 'approve' ? 'approved' : 'rejected'}\n`);
    return 0;
  }
  if (values.json) {
    io.out(`${JSON.stringify(body.pending ?? [], null, 2)}\n`);
  } else if (!body.pending || body.pending.length === 0) {
    io.out('no calls are waiting for approval\n');
  } else {
    for (const entry of body.pending) {
      io.out(`${entry.id}  ${entry.tool}  by ${entry.principal}  until ${entry.expiresAt}\n    ${JSON.stringify(entry.arguments)}\n`);
    }
  }
  return 0;
}

const options = {
  config: { type: 'string', short: 'c' },
  approve: { type: 'boolean' },
  principal: { type: 'string' },
  url: { type: 'string' },
  session: { type: 'boolean' },
  reason: { type: 'string' },
  stdio: { type: 'boolean' },
  http: { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
  json: { type: 'boolean' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

type ParsedValues = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

export async function main(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    io.err(`toolport: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.out(`${await readVersion()}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out(usage);
    return command === undefined && !values.help ? 2 : 0;
  }
  try {
    switch (command) {
      case 'serve':
        return await runServe(values, rest, io);
      case 'list':
        return await runList(values, rest, io);
      case 'call':
        return await runCall(values, rest, io);
      case 'check':
        return await runCheck(values, rest, io);
      case 'policy':
        return await runPolicy(values, rest, io);
      case 'approvals':
        return await runApprovals(values, rest, io);
      default:
        throw new UsageError(`unknown command "${command}"; expected serve, list, call, check, policy or approvals`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`toolport: ${error.message}\n`);
      return 2;
    }
    if (error instanceof ToolportError && error.code === ErrorCode.ConfigInvalid) {
      io.err(`toolport: ${error.shortMessage}\n`);
      return 2;
    }
    io.err(`toolport: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
