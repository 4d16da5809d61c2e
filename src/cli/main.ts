// The command line: serve, list, call, check, policy, approvals, pins, init, schema. Parses
// arguments (and their TOOLPORT_* environment defaults), loads the config and plugins,
// and hands over to the server or prints results. Exit codes: 0 ok, 1 a check or call
// failed, 2 bad usage or config. Each problem is printed once.
import { existsSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MissingRequiredClientCapabilityError, isInputRequiredResult, type CallToolResult } from '@modelcontextprotocol/server';
import { loadConfigFile, locateConfigError, parseConfig, withPluginPaths, type LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { EarlyHosts } from '../core/early-hosts.js';
import { ConfigError, ErrorCode, ToolportError, isToolportError } from '../core/errors.js';
import { didYouMean } from '../core/format.js';
import { createLogger, logFormats, logLevels, type LogFormat, type LogLevel, type Logger } from '../core/logger.js';
import { createSecretSet, type SecretSet } from '../core/redact.js';
import { changedParts, pluginKeyOf, renderDefinitionDiff } from '../policy/pins.js';
import { createToolport, type Toolport } from '../toolport.js';
import { absoluteServeArgs, clientConfigLines, quote, toStdioLaunch } from './client-configs.js';
import { commandHelp, commands, optionSpecs, overview, type Command } from './usage.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const binPath = join(packageRoot, 'bin', 'toolport.js');

/** Bad usage: exit 2, with the message (and where to read more). */
class UsageError extends Error {}
/** The command could not do its work for a reason outside toolport (a port in use): exit 1. */
class CommandFailed extends Error {}

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

/** The config files looked for in the working folder when none is named, in this order. */
const defaultConfigNames = ['toolport.yaml', 'toolport.yml', 'toolport.json'] as const;

async function findDefaultConfig(cwd: string): Promise<string | undefined> {
  for (const name of defaultConfigNames) {
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

const parserOptions = Object.fromEntries(
  Object.entries(optionSpecs).map(([name, spec]) => [name, { type: spec.type, ...('short' in spec && { short: spec.short }) }]),
) as { [K in keyof typeof optionSpecs]: { type: (typeof optionSpecs)[K]['type']; short?: string } };

type ParsedValues = { [K in keyof typeof optionSpecs]?: (typeof optionSpecs)[K]['type'] extends 'string' ? string : boolean };

/** The command line's values, with the environment's defaults filled in. */
interface Settings {
  readonly values: ParsedValues;
  /** --config, else TOOLPORT_CONFIG. */
  readonly configFile: string | undefined;
  readonly logLevel: (fallback: LogLevel) => LogLevel;
  readonly logFormat: LogFormat | undefined;
  readonly env: NodeJS.ProcessEnv;
}

function toSettings(values: ParsedValues, env: NodeJS.ProcessEnv): Settings {
  const format = env.TOOLPORT_LOG_FORMAT || undefined;
  if (format !== undefined && !(logFormats as readonly string[]).includes(format)) {
    throw new UsageError(`TOOLPORT_LOG_FORMAT: expected ${logFormats.join(' or ')}, got "${format}"`);
  }
  return {
    values,
    configFile: values.config ?? (env.TOOLPORT_CONFIG || undefined),
    logLevel: (fallback) => {
      if (values['log-level'] !== undefined) return parseLogLevel('--log-level', values['log-level']);
      if (env.TOOLPORT_LOG_LEVEL) return parseLogLevel('TOOLPORT_LOG_LEVEL', env.TOOLPORT_LOG_LEVEL);
      return fallback;
    },
    logFormat: format as LogFormat | undefined,
    env,
  };
}

function parseLogLevel(source: string, value: string): LogLevel {
  if ((logLevels as readonly string[]).includes(value)) return value as LogLevel;
  throw new UsageError(`${source}: expected one of ${logLevels.join(', ')}, got "${value}"${didYouMean(value, logLevels)}`);
}

function parsePort(source: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`${source}: expected 0-65535, got "${value}"`);
  return port;
}

/** The config to run with: from the config file (with its locator), or none, plus PATH arguments. */
async function resolveConfig(settings: Settings, paths: readonly string[]): Promise<{ config: Config; baseDir: string; source?: { file: string; loaded: LoadedConfig } }> {
  let file = settings.configFile;
  if (file === undefined && paths.length === 0) {
    file = await findDefaultConfig(process.cwd());
    if (file === undefined) {
      throw new UsageError('nothing to serve: pass a plugin PATH or --config FILE (or create ./toolport.yaml: toolport init)');
    }
  }
  if (!file) return { config: withPluginPaths(parseConfig({}), paths), baseDir: process.cwd() };
  const loaded = await loadConfigFile(file);
  return { config: withPluginPaths(loaded.config, paths), baseDir: dirname(resolve(file)), source: { file, loaded } };
}

/** Starts toolport; a plugin block that does not fit its detected kind is reported at its line in the file. */
async function startToolport(
  settings: Settings,
  paths: readonly string[],
  options: { logger: Logger; secrets?: SecretSet; oneShot: boolean; earlyHosts?: EarlyHosts },
): Promise<{ toolport: Toolport; config: Config }> {
  const { config, baseDir, source } = await resolveConfig(settings, paths);
  const loadedFile = source?.loaded.file;
  if (loadedFile !== undefined && source?.loaded.text !== undefined) {
    // A config found by looking would give way to one of the names looked for before it.
    const found = settings.configFile === undefined ? defaultConfigNames.indexOf(basename(loadedFile) as (typeof defaultConfigNames)[number]) : -1;
    const takenBefore = defaultConfigNames.slice(0, Math.max(found, 0)).map((name) => join(dirname(loadedFile), name));
    options.earlyHosts?.useConfig(loadedFile, source.loaded.text, takenBefore);
  }
  try {
    const toolport = await createToolport(config, {
      logger: options.logger,
      baseDir,
      ...(options.secrets && { secrets: options.secrets }),
      ...(options.earlyHosts && { earlyHosts: options.earlyHosts }),
      // One-shot commands print problems themselves (once) and publish no events.
      ...(options.oneShot ? { publishEvents: false, logDiagnostics: false, telemetry: false } : { version: await readVersion(), keptCatalogue: true, pruneCache: true }),
    });
    return { toolport, config };
  } catch (error) {
    if (error instanceof ConfigError && source) throw locateConfigError(error, source.file, source.loaded);
    throw error;
  }
}

/** A toolport for a one-shot command (list, call, check, policy). */
async function openToolport(settings: Settings, paths: readonly string[], defaultLevel: LogLevel): Promise<Toolport> {
  const logger = createLogger(settings.logLevel(defaultLevel), { ...(settings.logFormat && { format: settings.logFormat }) });
  return (await startToolport(settings, paths, { logger, oneShot: true })).toolport;
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

/** A listener that cannot start, said the way a person can act on. */
function listenFailure(error: unknown, what: string, host: string, port: number, howToChange: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new CommandFailed(`cannot ${what} on ${host}:${port}: the port is in use (another toolport, or \`npm start\`, still running?); ${howToChange}`);
  }
  if (code === 'EACCES') return new CommandFailed(`cannot ${what} on ${host}:${port}: not allowed (ports below 1024 need privileges); ${howToChange}`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new CommandFailed(`cannot ${what} on ${host}:${port}: this machine has no such address; pick another with --host`);
  return error instanceof Error ? error : new Error(String(error));
}

async function runServe(settings: Settings, paths: string[], io: Io, earlyHosts: EarlyHosts | undefined): Promise<number> {
  const { values, env } = settings;
  if (values.stdio && values.http) throw new UsageError('--stdio and --http exclude each other');
  const useHttp = values.http === true || values.port !== undefined || values.host !== undefined;
  const port = parsePort('--port', values.port) ?? (useHttp ? parsePort('TOOLPORT_PORT', env.TOOLPORT_PORT) : undefined);
  const host = values.host ?? (useHttp ? env.TOOLPORT_HOST || undefined : undefined);
  // On stdio, nothing but the transport may write to stdout: claim it before any plugin loads.
  const protocolOut = useHttp ? undefined : (await import('../server/protocol-stdout.js')).claimStdout();
  const secrets = createSecretSet();
  const logger = createLogger(settings.logLevel('info'), { secrets, ...(settings.logFormat && { format: settings.logFormat }) });
  guardProcess(logger);
  const { toolport, config } = await startToolport(settings, paths, { logger, secrets, oneShot: false, ...(earlyHosts && { earlyHosts }) });

  let stopTransport: () => Promise<void> = async () => {};
  let closeHub: () => Promise<void> = async () => {};
  let closeAdmin: () => Promise<void> = async () => {};
  const stopAll = async (): Promise<void> => {
    // The calls first, so they are answered and recorded as stopped by the shutdown before the
    // transports close their clients' connections.
    await toolport.stopCalls();
    try {
      await stopTransport();
      await closeHub();
      await closeAdmin();
    } finally {
      await toolport.close();
    }
  };
  let stopped: Promise<void>;
  try {
    const admin = config.approvals.admin;
    if (toolport.inbox && admin) {
      const { serveAdmin } = await import('../server/admin.js');
      const handle = await serveAdmin(toolport, toolport.inbox, logger, admin).catch((error: unknown) => {
        throw listenFailure(error, 'start the approvals admin endpoint', admin.host, admin.port, 'set another approvals.admin.port in the config');
      });
      closeAdmin = () => handle.close();
    }
    // Transport modules load only when used: stdio never pays for the HTTP stack.
    const { createServerHub } = await import('../server/mcp-server.js');
    const hub = createServerHub(toolport, { name: config.server.name, version: await readVersion(), pageSize: config.server.pageSize });
    closeHub = () => hub.close();
    if (useHttp) {
      const http = config.server.http;
      const listenHost = host ?? http.host;
      const listenPort = port ?? http.port;
      const { serveHttp } = await import('../server/http.js');
      const handle = await serveHttp(hub, logger, {
        host: listenHost,
        port: listenPort,
        tokens: http.auth.tokens,
        oauth: http.auth.oauth,
        serverName: config.server.name,
        allowedHosts: http.allowedHosts,
        maxSessions: http.maxSessions,
        maxSessionsPerPrincipal: http.maxSessionsPerPrincipal,
        sessionIdleMs: http.sessionIdleSeconds * 1000,
        ...(toolport.state.shared && { replica: toolport.state.replica, stateHealth: () => toolport.state.health() }),
      }).catch((error: unknown) => {
        throw listenFailure(error, 'serve HTTP', listenHost, listenPort, 'pick another with --port N (npm start -- --port N) or TOOLPORT_PORT=N; --port 0 takes a free one');
      });
      stopTransport = () => handle.close();
      io.out(connectionHelp(`http://${listenHost}:${handle.port}`, paths, settings.configFile));
      stopped = new Promise(() => {});
    } else {
      const { serveOverStdio } = await import('../server/stdio.js');
      const handle = serveOverStdio(hub, logger, { ...(protocolOut && { stdout: protocolOut }) });
      stopTransport = () => handle.close();
      stopped = handle.closed;
    }
  } catch (error) {
    await stopAll();
    throw error;
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
  await stopAll();
  return 0;
}

function connectionHelp(url: string, paths: readonly string[], configFile: string | undefined): string {
  return [
    `toolport is serving at ${url}/mcp (legacy SSE at ${url}/sse)`,
    '',
    'Connect a client:',
    ...clientConfigLines(toStdioLaunch(binPath, absoluteServeArgs(paths, configFile)), url),
    '',
    'Press Ctrl+C to stop.',
    '',
  ].join('\n');
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

async function runList(settings: Settings, paths: string[], io: Io): Promise<number> {
  const toolport = await openToolport(settings, paths, 'warn');
  try {
    const tools = toolport.listTools();
    const errors = toolport.diagnostics.filter((diagnostic) => diagnostic.level === 'error').length;
    if (settings.values.json) {
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
    return errors === 0 ? 0 : 1;
  } finally {
    await toolport.close();
  }
}

function renderResult(result: CallToolResult): string {
  return result.content
    .map((block) => (block.type === 'text' ? block.text : JSON.stringify(block)))
    .join('\n');
}

async function runCall(settings: Settings, positionals: string[], io: Io): Promise<number> {
  const { values } = settings;
  const { tool, args, paths } = parseToolArgs(positionals, 'call');
  const toolport = await openToolport(settings, paths, 'warn');
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    // Load problems and warnings (a plugin running without its sandbox) are said once, here.
    printDiagnostics(toolport, io);
    if (!toolport.registry.get(tool)) {
      const known = toolport.listTools().map((entry) => entry.name);
      throw new UsageError(`Unknown tool: ${tool}${didYouMean(tool, known)}${known.length > 0 ? `; known tools: ${known.join(', ')}` : ''}`);
    }
    const cannotAsk: CallToolResult = { content: [{ type: 'text', text: `${tool} needs input this command line cannot give (it asks the user or the model)` }], isError: true };
    const answer = await toolport
      .callTool(tool, args, {
        signal: abort.signal,
        ...(values.approve && { approval: { preApproved: `command line (${process.env.USER ?? 'unknown user'})` } }),
      })
      .catch((error: unknown) => {
        // A tool that asks its caller meets a caller that cannot be asked (-32021).
        if (error instanceof MissingRequiredClientCapabilityError) return cannotAsk;
        throw error;
      });
    // The command line offers no input_required round trip, so an answer is always a result.
    const result: CallToolResult = isInputRequiredResult(answer) ? cannotAsk : answer;
    io.out(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderResult(result)}\n`);
    // The tool is known (checked above), so explaining its decision cannot fail.
    const asks = result.isError && !values.approve ? asksBecause(toolport, tool, args) : undefined;
    if (asks) io.err(`hint: ${tool} asks for approval (${asks}); on the command line, --approve gives it\n`);
    return result.isError ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    await toolport.close();
  }
}

async function runCheck(settings: Settings, paths: string[], io: Io): Promise<number> {
  const toolport = await openToolport(settings, paths, 'silent');
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
function asksBecause(toolport: Toolport, name: string, args: unknown = {}): string | undefined {
  const { decision } = toolport.explain(name, args);
  return decision.action === 'ask' ? decision.because : undefined;
}

/** Exposed tool names never hold a slash or end in a plugin file's extension; paths do. */
const looksLikePath = (word: string): boolean => /[/\\]|\.(?:mjs|js|cjs|wasm|py|toml|json|ya?ml)$/i.test(word);

/** Splits `TOOL [JSON_ARGS] [PATH...]`. */
function parseToolArgs(positionals: readonly string[], command: string): { tool: string; args: unknown; paths: string[] } {
  const [tool, maybeArgs, ...rest] = positionals;
  if (!tool) throw new UsageError(`${command}: name the tool, e.g. toolport ${command} notebook__add_note '{"text":"hi"}'`);
  if (looksLikePath(tool)) throw new UsageError(`${command}: "${tool}" is a path, not a tool name; the tool comes first, e.g. toolport ${command} notebook__add_note '{"text":"hi"}' ${tool}`);
  if (maybeArgs === undefined) return { tool, args: {}, paths: rest };
  if (!maybeArgs.trimStart().startsWith('{')) {
    // A word that is no path (no slash, no plugin file's extension, nothing of that name here) was meant as the arguments.
    if (!looksLikePath(maybeArgs) && !/^https?:\/\//i.test(maybeArgs) && !existsSync(maybeArgs)) {
      throw new UsageError(`${command}: "${maybeArgs}" is neither JSON arguments (an object: '{"key":"value"}') nor a plugin path that exists`);
    }
    return { tool, args: {}, paths: [maybeArgs, ...rest] };
  }
  try {
    return { tool, args: JSON.parse(maybeArgs) as unknown, paths: rest };
  } catch (error) {
    throw new UsageError(`${command}: JSON_ARGS is not valid JSON (${(error as Error).message})`);
  }
}

async function runPolicy(settings: Settings, positionals: string[], io: Io): Promise<number> {
  const [sub, ...rest] = positionals;
  if (sub !== 'explain') throw new UsageError(`policy: expected "policy explain TOOL [JSON_ARGS]"${sub ? didYouMean(sub, ['explain']) : ''}`);
  const { tool, args, paths } = parseToolArgs(rest, 'policy explain');
  const toolport = await openToolport(settings, paths, 'silent');
  try {
    const explanation = toolport.explain(tool, args, settings.values.principal ?? 'local');
    if (settings.values.json) {
      io.out(`${JSON.stringify(explanation, null, 2)}\n`);
    } else {
      const { decision } = explanation;
      io.out(`${tool}: ${decision.action}\n  because ${decision.because}${decision.reason ? `\n  reason: ${decision.reason}` : ''}\n`);
      for (const missing of explanation.missingGrants) io.out(`  refused anyway: missing grant ${missing}\n`);
    }
    return 0;
  } catch (error) {
    if (isToolportError(error) && error.code === ErrorCode.ToolNotFound) {
      throw new UsageError(`${error.shortMessage}${didYouMean(tool, toolport.registry.tools.map((entry) => entry.name))}`);
    }
    throw error;
  } finally {
    await toolport.close();
  }
}

interface AdminAnswer {
  pending?: { id: string; tool: string; principal: string; arguments: unknown; expiresAt: string; replica?: string }[];
  error?: string;
}

/** The admin listener's JSON (a list, a decision or an error), or undefined for any other answer (another server, the MCP listener). */
function adminAnswer(text: string): AdminAnswer | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || 'jsonrpc' in parsed) return undefined;
  const answer = parsed as Record<string, unknown>;
  return Array.isArray(answer.pending) || typeof answer.error === 'string' || typeof answer.decided === 'string' ? answer : undefined;
}

async function runApprovals(settings: Settings, positionals: string[], io: Io): Promise<number> {
  const { values } = settings;
  const [sub, id] = positionals;
  if (sub !== 'list' && sub !== 'approve' && sub !== 'reject') {
    throw new UsageError(`approvals: expected list, approve ID or reject ID${sub ? didYouMean(sub, ['list', 'approve', 'reject']) : ''}`);
  }
  if (sub !== 'list' && !id) throw new UsageError(`approvals ${sub}: name the approval ID (see toolport approvals list)`);
  const configFile = settings.configFile ?? (await findDefaultConfig(process.cwd()));
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
    throw new CommandFailed(`approvals: cannot reach ${base} (${(error as Error).message}); is toolport serve running?`);
  }
  const text = await response.text();
  const body = adminAnswer(text);
  if (!body) {
    throw new CommandFailed(
      `approvals: ${base} did not answer as toolport's admin listener (HTTP ${response.status}: ${JSON.stringify(text.slice(0, 60))}); ` +
        `is it the approvals.admin address${admin ? ` (${admin.host}:${admin.port} in ${configFile})` : ''}?`,
    );
  }
  if (response.status === 401) {
    const from = process.env.TOOLPORT_ADMIN_TOKEN !== undefined ? 'TOOLPORT_ADMIN_TOKEN' : `approvals.admin.token in ${configFile}`;
    throw new CommandFailed(`approvals: ${base} refused the admin token (from ${from}); it must be the serving toolport's approvals.admin.token`);
  }
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
      const where = entry.replica === undefined ? '' : `  on ${entry.replica}`;
      io.out(`${entry.id}  ${entry.tool}  by ${entry.principal}  until ${entry.expiresAt}${where}\n    ${JSON.stringify(entry.arguments)}\n`);
    }
  }
  return 0;
}

async function runPins(settings: Settings, positionals: string[], io: Io): Promise<number> {
  const { values } = settings;
  const [sub, ...rest] = positionals;
  if (sub !== 'list' && sub !== 'diff' && sub !== 'approve') {
    throw new UsageError(`pins: expected list, diff TOOL, approve TOOL or approve --plugin ID${sub ? didYouMean(sub, ['list', 'diff', 'approve']) : ''}`);
  }
  if (values.plugin !== undefined && sub !== 'approve') throw new UsageError('--plugin goes with pins approve');
  const wantsTool = sub === 'diff' || (sub === 'approve' && values.plugin === undefined);
  const toolName = wantsTool ? rest[0] : undefined;
  const toolPaths = wantsTool ? rest.slice(1) : rest;
  if (wantsTool && !toolName) throw new UsageError(`pins ${sub}: name the tool, e.g. toolport pins ${sub} weather__forecast (or --plugin ID)`);
  if (toolName !== undefined && looksLikePath(toolName)) {
    throw new UsageError(`pins ${sub}: "${toolName}" is a path, not a tool name; the tool comes first, e.g. toolport pins ${sub} weather__forecast ${toolName}`);
  }
  const toolport = await openToolport(settings, toolPaths, 'error');
  try {
    await toolport.pins.flush();
    const tools = toolport.registry.tools;
    const tool = toolName === undefined ? undefined : toolport.registry.get(toolName);
    if (toolName !== undefined && !tool) {
      const known = tools.map((entry) => entry.name);
      throw new UsageError(`Unknown tool: ${toolName}${didYouMean(toolName, known)}`);
    }
    const by = `command line (${process.env.USER ?? 'unknown user'})`;
    if (values.plugin !== undefined && !toolport.plugins.some((plugin) => plugin.id === values.plugin)) {
      const ids = toolport.plugins.map((plugin) => plugin.id);
      throw new UsageError(`pins approve --plugin: no plugin "${values.plugin}" is served${didYouMean(values.plugin, ids)}${ids.length > 0 ? `; served: ${ids.join(', ')}` : ''}`);
    }
    if (sub === 'approve') {
      const approved = await toolport.pins.approve(tool ? { tools: [tool] } : { pluginId: values.plugin }, by);
      if (approved.length === 0) {
        io.out(tool ? `${tool.name} already matches its pin; nothing to approve\n` : `plugin ${values.plugin}: no changed or new tool to approve\n`);
        return 0;
      }
      for (const entry of approved) {
        const exposed = tools.find((candidate) => candidate.plugin.id === entry.plugin && candidate.plugin.source === entry.source && candidate.definition.name === entry.tool);
        io.out(`approved ${exposed?.name ?? `${entry.plugin}/${entry.tool}`} (pin ${entry.digest.slice(0, 12)})\n`);
      }
      return 0;
    }
    if (sub === 'diff') {
      const found = tool as NonNullable<typeof tool>;
      const verdict = toolport.pins.verdict(found);
      if (verdict.state === 'pinned') {
        io.out(`${found.name} matches its pin\n`);
        return 0;
      }
      const header =
        verdict.state === 'new'
          ? `${found.name}: a new tool of plugin ${found.plugin.id}, not pinned yet (${verdict.action})`
          : `${found.name}: ${changedParts(verdict.pinned?.definition, verdict.current.definition)} changed since it was pinned on ${verdict.pinned?.pinnedAt ?? '?'} (${verdict.action})`;
      io.out(`${header}\n--- pinned ${verdict.pinned?.digest.slice(0, 12) ?? '(none)'}\n+++ now    ${verdict.current.digest.slice(0, 12)}\n`);
      io.out(`${renderDefinitionDiff(verdict.pinned?.definition, verdict.current.definition)}\n`);
      io.out(`accept it with: toolport pins approve ${found.name}\n`);
      return 0;
    }
    // list
    const file = await toolport.pins.read();
    const rows = Object.entries(file.plugins).flatMap(([key, plugin]) => {
      const names = new Set([...Object.keys(plugin.tools), ...Object.keys(plugin.pending)]);
      return [...names].sort().map((name) => {
        const exposed = tools.find((candidate) => pluginKeyOf(candidate) === key && candidate.definition.name === name);
        const verdict = exposed ? toolport.pins.verdict(exposed) : undefined;
        const state = !exposed ? 'not loaded now' : verdict?.state === 'pinned' ? 'pinned' : `${verdict?.state} (${verdict && 'action' in verdict ? verdict.action : ''})`;
        return { plugin: plugin.id, source: plugin.source, tool: exposed?.name ?? `${plugin.id}/${name}`, state, pin: plugin.tools[name], pending: plugin.pending[name] };
      });
    });
    if (values.json) {
      io.out(`${JSON.stringify({ tools: rows }, null, 2)}\n`);
      return 0;
    }
    if (rows.length === 0) io.out('no pins yet\n');
    const width = Math.max(0, ...rows.map((row) => row.tool.length));
    for (const row of rows) {
      const pin = row.pin ? `${row.pin.digest.slice(0, 12)} ${row.pin.approvedBy ? `approved ${row.pin.pinnedAt} by ${row.pin.approvedBy}` : `pinned ${row.pin.pinnedAt}`}` : 'no pin';
      io.out(`${row.tool.padEnd(width)}  ${row.state.padEnd(22)}  ${pin}\n`);
    }
    return 0;
  } finally {
    await toolport.close();
  }
}

async function runSchema(positionals: string[], io: Io): Promise<number> {
  if (positionals.length > 0) throw new UsageError('schema takes no arguments; redirect its output to a file: toolport schema > toolport.schema.json');
  const { toConfigJsonSchema } = await import('../config/json-schema.js');
  io.out(`${JSON.stringify(toConfigJsonSchema(), null, 2)}\n`);
  return 0;
}

async function runInit(settings: Settings, positionals: string[], io: Io): Promise<number> {
  if (positionals.length > 1) throw new UsageError(`init takes one folder, got ${positionals.length}: ${positionals.join(' ')}`);
  const { initProject, initKinds } = await import('./init.js');
  const kind = settings.values.kind ?? 'module';
  if (!(initKinds as readonly string[]).includes(kind)) {
    throw new UsageError(`--kind: expected one of ${initKinds.join(', ')}, got "${kind}"${didYouMean(kind, initKinds)}`);
  }
  const dir = resolve(positionals[0] ?? '.');
  const made = await initProject(dir, kind as (typeof initKinds)[number], { force: settings.values.force === true }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError((error as Error).message);
    throw error;
  });
  const configPath = join(dir, 'toolport.yaml');
  const stdio = toStdioLaunch(binPath, ['--config', configPath], {});
  const self = [process.execPath, binPath].map(quote).join(' ');
  io.out(
    [
      `Created in ${dir}:`,
      ...made.files.map((file) => `  ${file.name.padEnd(22)} ${file.about}`),
      '',
      ...(made.before.length > 0 ? ['First:', ...made.before.map((line) => `  ${line}`), ''] : []),
      // As they run from any folder, whether toolport is on PATH or not (in a project that
      // installed it, or in a clone, it is not).
      'Then:',
      `  ${self} check --config ${quote(configPath)}`,
      `  ${self} call ${made.tryCall} --config ${quote(configPath)}`,
      '',
      'Connect a client:',
      ...clientConfigLines(stdio),
      '',
    ].join('\n'),
  );
  return 0;
}

/** The command's options that were given but do not belong to it. */
function foreignOptions(command: Command, tokens: readonly { kind: string; name?: string; rawName?: string }[]): string[] {
  return tokens.flatMap((token) => {
    if (token.kind !== 'option' || token.name === undefined) return [];
    const spec = optionSpecs[token.name as keyof typeof optionSpecs];
    return spec.for === '*' || (spec.for as readonly string[]).includes(command) ? [] : [token.rawName ?? token.name];
  });
}

const seeHelp = (command: string | undefined): string => (command ? `see toolport ${command} --help` : 'see toolport --help');

/** `earlyHosts`: plugin hosts bin/toolport.js started before this module loaded (serve uses them; any other command stops them). */
export async function main(argv: readonly string[], io: Io = defaultIo, env: NodeJS.ProcessEnv = process.env, earlyHosts?: EarlyHosts): Promise<number> {
  const firstWord = argv.find((arg) => !arg.startsWith('-'));
  const guessedCommand = (commands as readonly string[]).includes(firstWord ?? '') ? firstWord : undefined;
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: parserOptions, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    const message = (error as Error).message;
    const option = /Unknown option '(--?[^']+)'/.exec(message)?.[1];
    const hint = option?.startsWith('--') ? didYouMean(option.slice(2), Object.keys(optionSpecs)).replace(/"([^"]+)"/, '"--$1"') : '';
    io.err(`toolport: ${message.split('. ')[0]}${hint}; ${seeHelp(guessedCommand)}\n`);
    return 2;
  }
  const values = parsed.values as ParsedValues;
  if (values.version || values.v) {
    io.out(`${await readVersion()}\n`);
    return 0;
  }
  const [command, ...rest] = parsed.positionals;
  if (command === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      io.out(overview);
      return 0;
    }
    if (!(commands as readonly string[]).includes(topic)) {
      io.err(`toolport: help: no command "${topic}"${didYouMean(topic, commands)}; expected ${commands.join(', ')} (see toolport --help)\n`);
      return 2;
    }
    io.out(commandHelp[topic as Command]);
    return 0;
  }
  if (command === undefined) {
    io.out(overview);
    return values.help ? 0 : 2;
  }
  if (!(commands as readonly string[]).includes(command)) {
    io.err(`toolport: unknown command "${command}"${didYouMean(command, commands)}; expected ${commands.join(', ')} (see toolport --help)\n`);
    return 2;
  }
  const known = command as Command;
  if (values.help) {
    io.out(commandHelp[known]);
    return 0;
  }
  try {
    const foreign = foreignOptions(known, parsed.tokens);
    if (foreign.length > 0) throw new UsageError(`${foreign.join(', ')}: not an option of ${known}`);
    const settings = toSettings(values, env);
    // Only serve notes hosts to start early; whatever another command line's note started is stopped.
    if (known !== 'serve') earlyHosts?.close();
    switch (known) {
      case 'serve':
        return await runServe(settings, rest, io, earlyHosts);
      case 'list':
        return await runList(settings, rest, io);
      case 'call':
        return await runCall(settings, rest, io);
      case 'check':
        return await runCheck(settings, rest, io);
      case 'policy':
        return await runPolicy(settings, rest, io);
      case 'approvals':
        return await runApprovals(settings, rest, io);
      case 'pins':
        return await runPins(settings, rest, io);
      case 'init':
        return await runInit(settings, rest, io);
      case 'schema':
        return await runSchema(rest, io);
    }
  } catch (error) {
    // A serve that could not start: what no plugin claimed is stopped.
    earlyHosts?.close();
    if (error instanceof UsageError) {
      io.err(`toolport: ${error.message}; ${seeHelp(known)}\n`);
      return 2;
    }
    if (error instanceof CommandFailed) {
      io.err(`toolport: ${error.message}\n`);
      return 1;
    }
    if (error instanceof ToolportError && error.code === ErrorCode.ConfigInvalid) {
      io.err(`toolport: ${error.shortMessage}\n`);
      return 2;
    }
    if (error instanceof ToolportError && error.code === ErrorCode.StateUnavailable) {
      io.err(`toolport: ${error.shortMessage}\n`);
      return 1;
    }
    io.err(`toolport: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
