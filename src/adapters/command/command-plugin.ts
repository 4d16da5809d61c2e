// The `command` kind: an EvoClaw skill folder (SKILL.md + agent.toml [tools.NAME]) whose tools
// run as one subprocess per call, argv only, each in a bubblewrap sandbox of its own (its
// folder, its grants, no network unless granted), with an environment from the grants,
// capped output and a time limit.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ErrorCode, ToolportError, describeThrown, isToolportError } from '../../core/errors.js';
import { createPluginLifecycle } from '../../core/lifecycle.js';
import { textContent, isPlainObject, type CallDeadline, type ToolDefinition, type ToolOutcome } from '../../core/tool.js';
import { toPermission } from '../../core/grants.js';
import { isInside } from '../../core/file-paths.js';
import { toSignalOfExitCode } from '../../core/process-tree.js';
import { describeMissingSandbox, detectSandbox, isAllowlisted, sandboxOffWarning, toPluginEnvironment, toSandbox, type FileAccess } from '../../core/sandbox.js';
import type { AdapterContext, LoadedPlugin, PluginDiagnostic } from '../../core/plugin.js';
import type { CommandSpec } from './spec.js';
import { toCallEnvironment, toExpandedNames } from './environment.js';
import { createLimiter, type Limiter } from './limiter.js';
import { resolveCommand } from './resolve-command.js';
import { runProcess, StartError, type CapturedOutput, type RunResult } from './run-process.js';
import { readAgentTools, readSkillManifest, readSkillToolDocs, SkillFileError, type Finding } from './skill-files.js';
import { toArgText, toToolPlan, type ArgSlot } from './tool-schema.js';

/** Beyond the kill grace period, how long the pipeline waits for a stopped call's report. */
const backstopSeconds = 5;
/** How much of stderr the model sees when a call fails. */
const stderrTailBytes = 4096;

interface CommandTool {
  readonly name: string;
  readonly file: string;
  readonly slots: readonly ArgSlot[];
  readonly defaults: Readonly<Record<string, unknown>>;
  /** agent.toml `env` entries, expanded per call. */
  readonly entries: readonly string[];
  readonly limiter: Limiter;
  readonly definition: ToolDefinition;
}

function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/** Skill folder from the configured path: the folder itself, or its SKILL.md / agent.toml. */
async function toSkillDir(path: string, baseDir: string): Promise<string> {
  const absolute = resolve(baseDir, path);
  let info;
  try {
    info = await stat(absolute);
  } catch {
    throw new SkillFileError('not found');
  }
  if (info.isDirectory()) return absolute;
  const name = basename(absolute);
  if (name === 'agent.toml' || name === 'SKILL.md' || name === 'skill.toml') return dirname(absolute);
  throw new SkillFileError('a command skill is a folder with SKILL.md and agent.toml');
}


/** grants.files by absolute path (relative ones against the config's folder); a missing one is said. */
async function toGrantedFiles(files: Readonly<Record<string, FileAccess>>, baseDir: string, findings: Finding[]): Promise<Record<string, FileAccess>> {
  const granted: Record<string, FileAccess> = {};
  for (const [path, access] of Object.entries(files)) {
    const absolute = resolve(baseDir, path);
    granted[absolute] = access;
    const exists = await stat(absolute).then(
      () => true,
      () => false,
    );
    if (!exists) findings.push({ level: 'warning', message: `grants.files: ${path} does not exist (${absolute}); the skill sees it once it does` });
  }
  return granted;
}

/** Whether the skill declares network use, in the policy layer's vocabulary (so both agree). */
function hasInternet(permissions: readonly string[]): boolean {
  return permissions.some((permission) => toPermission(permission) === 'network');
}

function truncationNote(output: CapturedOutput, stream: 'stdout' | 'stderr'): string {
  const part = stream === 'stdout' ? 'first' : 'last';
  return `[toolport: ${stream} truncated: the command wrote ${output.totalBytes} bytes; the ${part} ${Buffer.byteLength(output.text)} are kept]`;
}

function successOutcome(run: RunResult): ToolOutcome {
  const { stdout } = run;
  const text = stdout.truncated ? `${stdout.text}\n${truncationNote(stdout, 'stdout')}` : stdout.text;
  const outcome: ToolOutcome = { content: [textContent(text)] };
  const trimmed = stdout.text.trim();
  if (!stdout.truncated && trimmed.startsWith('{')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      if (isPlainObject(value)) outcome.structuredContent = value;
    } catch {
      // Not JSON after all: text only.
    }
  }
  return outcome;
}

function failureOutcome(tool: string, run: RunResult, timeoutMs: number, sandboxed: boolean): ToolOutcome {
  let headline: string;
  if (run.stopped) {
    headline = `${tool} timed out after ${formatSeconds(timeoutMs)} s and was stopped${run.killed ? ' (killed after ignoring SIGTERM)' : ''}.`;
  } else if (run.signal) {
    headline = `${tool} was killed by signal ${run.signal}.`;
  } else {
    // bwrap reports a death by signal N as exit code 128 + N.
    const signal = sandboxed ? toSignalOfExitCode(run.exitCode) : undefined;
    headline = `${tool} failed with exit code ${run.exitCode}${signal ? ` (as when killed by ${signal})` : ''}.`;
  }
  const parts = [headline];
  if (run.stdout.text.length > 0 || run.stdout.truncated) {
    parts.push(`stdout:\n${run.stdout.text}${run.stdout.truncated ? `\n${truncationNote(run.stdout, 'stdout')}` : ''}`);
  }
  if (run.stderr.totalBytes > 0) {
    const bytes = Buffer.from(run.stderr.text);
    const tail = bytes.length > stderrTailBytes ? bytes.subarray(bytes.length - stderrTailBytes).toString('utf8') : run.stderr.text;
    const label = run.stderr.totalBytes > Buffer.byteLength(tail) ? `stderr (last ${Buffer.byteLength(tail)} of ${run.stderr.totalBytes} bytes)` : 'stderr';
    parts.push(`${label}:\n${tail}`);
  }
  return { content: [textContent(parts.join('\n'))], isError: true };
}

export async function loadCommandPlugin(spec: CommandSpec, context: AdapterContext): Promise<LoadedPlugin> {
  let dir: string;
  let manifestResult;
  let agentResult;
  let docsResult;
  try {
    dir = await toSkillDir(spec.path, context.baseDir);
    manifestResult = await readSkillManifest(dir);
    agentResult = await readAgentTools(dir);
    docsResult = await readSkillToolDocs(dir);
  } catch (error) {
    const message = error instanceof SkillFileError ? error.message : `cannot read the skill (${describeThrown(error)})`;
    throw new ToolportError(ErrorCode.PluginLoadFailed, message, { cause: error });
  }
  const { manifest } = manifestResult;
  const id = manifest.name ?? basename(dir);
  if (agentResult.missing && !spec.serveSkill) {
    throw new ToolportError(ErrorCode.PluginLoadFailed, 'agent.toml: not found; declare each tool as a [tools.NAME] table with command, args, description (or serve the folder as a skill without tools: remove serveSkill: false)');
  }
  // Served through the MCP skills extension unless the config says not to.
  const skill = spec.serveSkill ? { skill: { folder: dir, name: manifest.name ?? basename(dir) } } : {};
  if (agentResult.missing) {
    // A SKILL.md-only folder: instructions for the agent, no tools, nothing to run.
    return {
      id,
      kind: 'command',
      ...(manifest.version !== undefined && { version: manifest.version }),
      ...(manifest.description !== undefined && { description: manifest.description }),
      tools: [],
      diagnostics: [...manifestResult.findings, { level: 'info', message: 'no agent.toml: served as a skill with no tools (SKILL.md and its folder, through the MCP skills extension)' }],
      ...skill,
      call: (name) => Promise.reject(new ToolportError(ErrorCode.ToolNotFound, `Unknown tool: ${name}`, { pluginId: id })),
      close: () => Promise.resolve(),
    };
  }
  const logger = context.logger.child({ plugin: id });
  const findings: Finding[] = [...manifestResult.findings, ...agentResult.findings, ...docsResult.findings];
  if (Object.keys(spec.settings).length > 0) {
    findings.push({ level: 'warning', message: 'settings are not used by command skills (pass values through the environment with grants.env)' });
  }

  // The kernel sandbox (deny by default), unless the config opts out for this skill.
  const support = spec.sandbox === 'off' ? undefined : await detectSandbox();
  if (support) logSupportOnce(context, support.available ? `sandbox: bubblewrap (${support.bwrap})` : `sandbox unavailable: ${support.reason}`);
  if (support && !support.available) throw new ToolportError(ErrorCode.PluginLoadFailed, describeMissingSandbox(support.reason, 'command skills'));
  if (!support) findings.push({ level: 'warning', message: sandboxOffWarning });
  const grantLine = (key: string): string => `${context.configPath ?? 'this plugin'}.grants.${key}`;
  const granted = await toGrantedFiles(spec.grants.files, context.baseDir, findings);

  // Network only with the config's grant. A skill that declares `internet` without it is
  // refused by the policy layer; it is isolated all the same.
  const declaresInternet = hasInternet(manifest.permissions);
  const isolatedNetwork = support !== undefined && !spec.grants.network;

  // Variables from toolport's environment: the allowlist and what the config grants. SKILL.md's
  // metadata.evoclaw.env declares what the skill needs, as `env:NAME` permissions.
  for (const name of manifest.env) {
    if (!spec.grants.env.includes(name)) {
      findings.push({ level: 'warning', message: `SKILL.md declares the variable ${name} (metadata.evoclaw.env), which is not granted: calls are refused until ${grantLine('env')}: [${name}]` });
    }
  }
  const permissions = [...manifest.permissions, ...manifest.env.map((name) => `env:${name}`)];
  const killGraceMs = spec.killGraceSeconds * 1000;
  const tools = new Map<string, CommandTool>();
  for (const entry of agentResult.tools) {
    const { plan, findings: planFindings } = toToolPlan(entry, docsResult.docs.get(entry.name));
    findings.push(...planFindings);
    if (!plan) continue;
    const resolved = await resolveCommand(entry.command, dir, process.env.PATH);
    if ('problem' in resolved) {
      findings.push({ level: 'error', tool: entry.name, message: `agent.toml: tools.${entry.name}.command: ${resolved.problem}; the tool is skipped` });
      continue;
    }
    for (const [index, item] of entry.env.entries()) {
      if (!/^[^=]+=/.test(item)) {
        findings.push({ level: 'warning', tool: entry.name, message: `agent.toml: tools.${entry.name}.env[${index}]: "${item}" is not KEY=value; it is ignored` });
        continue;
      }
      for (const name of toExpandedNames(item)) {
        if (isAllowlisted(name) || spec.grants.env.includes(name) || name.startsWith('SKILL_ARG_')) continue;
        findings.push({
          level: 'warning',
          tool: entry.name,
          message: `agent.toml: tools.${entry.name}.env[${index}]: ${name} is not granted, so it expands to empty; to pass it, set ${grantLine('env')}: [${name}]`,
        });
      }
    }
    // EvoClaw's default (30 s) applies when timeout_secs is missing or not positive; here
    // that is defaults.timeoutSeconds, which the pipeline applies (the config block's wins).
    const ownTimeoutSeconds = entry.timeoutSecs !== undefined && entry.timeoutSecs > 0 ? entry.timeoutSecs : undefined;
    const shownTimeoutSeconds = spec.timeoutSeconds ?? ownTimeoutSeconds;
    tools.set(entry.name, {
      name: entry.name,
      file: resolved.file,
      slots: plan.slots,
      defaults: plan.defaults,
      entries: entry.env,
      limiter: createLimiter(spec.concurrency),
      definition: {
        name: entry.name,
        description: plan.description,
        inputSchema: plan.inputSchema,
        ...(permissions.length > 0 && { permissions }),
        meta: { 'toolport/command': { network: isolatedNetwork ? 'none' : 'allowed', ...(shownTimeoutSeconds !== undefined && { timeoutSeconds: shownTimeoutSeconds }) } },
        ...(ownTimeoutSeconds !== undefined && { timeoutSeconds: ownTimeoutSeconds }),
      },
    });
  }
  if (tools.size === 0) {
    const problems = findings.filter((finding) => finding.level === 'error').map((finding) => finding.message);
    throw new ToolportError(ErrorCode.PluginLoadFailed, `no usable tools${problems.length > 0 ? `:\n  ${problems.join('\n  ')}` : ''}`);
  }

  // One sandbox per skill: its folder and its programs read-only, its grants, its network.
  const programs = [...new Set([...tools.values()].map((tool) => tool.file))].filter((file) => !isInside(dir, file));
  const sandbox = support?.available
    ? toSandbox(support, { cwd: dir, readOnly: [{ path: dir }, ...programs.map((path) => ({ path, label: 'a program' }))], files: granted, network: spec.grants.network })
    : undefined;
  if (sandbox) {
    const refused = declaresInternet && !spec.grants.network ? `; SKILL.md declares "internet", so calls are refused until ${grantLine('network')}: true` : '';
    findings.push({ level: 'info', message: `${sandbox.description}${refused}` });
  }
  const baseEnv = toPluginEnvironment(process.env, spec.grants.env, sandbox);

  const definitions = [...tools.values()].map((tool) => tool.definition);
  const lifecycle = createPluginLifecycle(id);

  async function call(name: string, args: Record<string, unknown>, signal: AbortSignal, deadline: CallDeadline): Promise<ToolOutcome> {
    const tool = tools.get(name);
    if (!tool) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown tool: ${name}`, { pluginId: id });
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...tool.defaults, ...args })) values[key] = toArgText(value);
    for (const [key, value] of Object.entries(values)) {
      if (value.includes('\0')) {
        throw new ToolportError(ErrorCode.ArgumentsInvalid, `Invalid arguments for ${name}: ${key} contains a NUL character, which a program cannot receive`, { pluginId: id });
      }
    }
    // A placeholder without a value is an empty argument, as in EvoClaw.
    const argv = tool.slots.map((slot) => ('literal' in slot ? slot.literal : (values[slot.placeholder] ?? '')));
    const env = toCallEnvironment(baseEnv, tool.entries, values);

    // The time limit covers the run, not the wait for a free slot.
    deadline.hold();
    const release = await tool.limiter.acquire(signal).finally(() => deadline.restart());
    let run: RunResult;
    try {
      // Checked here too because a sandbox wrapper would report a missing program as its own exit code.
      await access(tool.file, constants.X_OK).catch((error: NodeJS.ErrnoException) => {
        throw new StartError(error.code ?? 'unknown error', error);
      });
      const [file, ...prefixArgs] = sandbox ? [...sandbox.prefix, tool.file] : [tool.file];
      run = await runProcess({
        file,
        args: [...prefixArgs, ...argv],
        cwd: dir,
        env,
        killGraceMs,
        sandboxed: sandbox !== undefined,
        maxOutputBytes: spec.maxOutputBytes,
        maxStderrBytes: Math.min(spec.maxOutputBytes, stderrTailBytes),
        signal,
      });
    } catch (error) {
      if (error instanceof StartError) {
        logger.warn({ err: error, tool: name }, 'the command could not be started');
        const why = error.errno === 'ENOENT' ? 'the program was not found' : error.errno === 'EACCES' ? 'permission denied' : error.errno;
        throw new ToolportError(ErrorCode.PluginCrashed, `${name} could not be started: ${why}`, { pluginId: id, cause: error });
      }
      throw error;
    } finally {
      release();
    }
    logger.debug(
      { tool: name, pid: run.pid, exitCode: run.exitCode, signal: run.signal, stopped: run.stopped, ms: Math.round(run.durationMs), stdoutBytes: run.stdout.totalBytes, stderrBytes: run.stderr.totalBytes },
      'command finished',
    );
    if (run.stopped) {
      // A deadline is reported with what the command wrote; cancellation and shutdown as such.
      const reason: unknown = signal.reason;
      const timedOut = isToolportError(reason) && reason.code === ErrorCode.CallTimeout;
      if (!timedOut) throw isToolportError(reason) ? reason : new ToolportError(ErrorCode.CallCancelled, `${name} was cancelled`, { pluginId: id, cause: reason });
    } else if (run.exitCode === 0) {
      return successOutcome(run);
    }
    if (run.stderr.totalBytes > 0) logger.debug({ tool: name, stderr: run.stderr.text.slice(-stderrTailBytes) }, 'stderr of the failed command');
    return failureOutcome(name, run, deadline.ms, sandbox !== undefined);
  }

  return {
    id,
    kind: 'command',
    ...(manifest.version !== undefined && { version: manifest.version }),
    ...(manifest.description !== undefined && { description: manifest.description }),
    tools: definitions,
    diagnostics: findings.map((finding): PluginDiagnostic => ({ ...finding })),
    ...skill,
    // Stopping a call takes SIGTERM, the kill grace period, then the wait for the group to go:
    // its report (timed out, with stderr) is worth waiting for.
    stopGraceMs: killGraceMs + backstopSeconds * 1000,
    call: (name, args, options) => lifecycle.run(name, options, ({ signal }) => call(name, args, signal, options.deadline)),
    // Every running process gets SIGTERM, then SIGKILL after the grace period; close waits for all.
    close: () => lifecycle.close(),
  };
}

let supportLogged = false;
function logSupportOnce(context: AdapterContext, message: string): void {
  if (supportLogged) return;
  supportLogged = true;
  context.logger.info(message);
}
