// The contract between toolport and a plugin kind: an adapter turns a config block into a
// loaded plugin with tools, a call method and an idempotent close. Prompts and instructions
// are optional capabilities a kind may add.
import { z } from 'zod';
import type { EarlyHosts } from './early-hosts.js';
import type { Logger } from './logger.js';
import type { SharedState } from './shared-state.js';
import type { PromptDefinition, PromptOptions, PromptOutcome, SessionInfo } from './prompt.js';
import type { CallOptions, ToolDefinition, ToolOutcome } from './tool.js';

export const pluginKinds = ['wasm', 'python', 'command', 'http', 'module'] as const;
export type PluginKind = (typeof pluginKinds)[number];

/** What a plugin id (the prefix of its tools) may be: in config, hook modules and registerTool. */
export const pluginIdPattern = /^[A-Za-z0-9_-]{1,32}$/;
export const pluginIdRule = 'must be 1-32 letters, digits, _ or -';

/** What the plugin may use; nothing unless the config grants it. */
export const grantsSchema = z
  .strictObject({
    env: z.array(z.string().min(1)).default([]),
    files: z.record(z.string(), z.enum(['ro', 'rw'])).default({}),
    network: z.boolean().default(false),
    permissions: z.array(z.string().min(1)).default([]),
  })
  .default({ env: [], files: {}, network: false, permissions: [] });

export type Grants = z.output<typeof grantsSchema>;

export const noGrants: Grants = Object.freeze({ env: [], files: {}, network: false, permissions: [] });

/** The config keys every plugin block has, whatever its kind. */
export const basePluginSpecShape = {
  path: z.string().min(1, 'must be a file, folder or URL'),
  id: z.string().regex(pluginIdPattern, pluginIdRule).optional(),
  timeoutSeconds: z.number().positive().max(86_400).optional(),
  grants: grantsSchema,
  settings: z.record(z.string(), z.unknown()).default({}),
  /** This plugin's tools that change nothing, by their own names (globs): the policy treats them as read-only. */
  readOnly: z.array(z.string().min(1, 'must be a tool name or glob')).optional(),
};

export interface PluginSpec {
  kind: PluginKind;
  path: string;
  id?: string | undefined;
  timeoutSeconds?: number | undefined;
  grants: Grants;
  settings: Record<string, unknown>;
  readOnly?: string[] | undefined;
}

export interface AdapterContext {
  /** Plugin paths in the spec are resolved against this folder (the config file's). */
  readonly baseDir: string;
  readonly logger: Logger;
  /** Where adapters keep state across restarts (keys, plugin data): private to this user. */
  readonly stateDir: string;
  /** Where adapters keep what can be made again (transpiled code, load answers): private to this user. */
  readonly cacheDir: string;
  /** A plugin calls this when its tool list changed (the registry re-reads `tools`). */
  readonly toolsChanged: () => void;
  /**
   * Fires when loading took longer than `defaults.loadTimeoutSeconds` (or the server stops
   * meanwhile): stop loading and release what was started (a process, a worker).
   */
  readonly signal?: AbortSignal;
  /**
   * `defaults.loadTimeoutSeconds` in ms: how long a load may take, also when a plugin loads
   * again on its own (a restarted host), where no `signal` bounds it. Default 30 s.
   */
  readonly loadTimeoutMs?: number;
  /** Where the plugin's block is in the config, e.g. `plugins[2]`, for messages that name a config line. */
  readonly configPath?: string;
  /**
   * State shared with the other replicas (`state.redis`); when absent or not `shared`, a
   * plugin keeps its state in `stateDir` as one process would.
   */
  readonly state?: SharedState;
  /** Tells the server's metrics that the plugin's process was restarted, or its sandbox refused a request. */
  readonly report?: (event: PluginEvent) => void;
  /** Plugin hosts `toolport serve` started before it loaded (core/early-hosts.ts). */
  readonly earlyHosts?: EarlyHosts;
}

/** What a running plugin reports for the metrics. */
export type PluginEvent = 'restart' | 'sandbox_refusal';

/** Something the adapter found while loading: a disabled tool, an ignored key, the sandbox in use. */
export interface PluginDiagnostic {
  readonly level: 'error' | 'warning' | 'info';
  readonly message: string;
  /** The plugin's own name of the tool it concerns, if any. */
  readonly tool?: string;
}

export interface LoadedPlugin {
  /** The plugin's own id (the registry may still override it from config). */
  readonly id: string;
  readonly kind: PluginKind;
  readonly version?: string;
  readonly description?: string;
  /** The current tool list; may change after `toolsChanged` was signalled. */
  readonly tools: readonly ToolDefinition[];
  /** Problems and facts found at load, reported by `toolport check` and the log (read once). */
  readonly diagnostics?: readonly PluginDiagnostic[];
  /**
   * How long after a call's signal fired the plugin may still take to report how the call
   * ended (e.g. a process stopped with SIGTERM, then SIGKILL). Default 0: the pipeline
   * answers at once with the signal's reason.
   */
  readonly stopGraceMs?: number;
  /**
   * Runs one tool. Resolves when the plugin answered (also with `isError`);
   * rejects with a ToolportError when it could not answer.
   */
  call(tool: string, args: Record<string, unknown>, options: CallOptions): Promise<ToolOutcome>;
  /** Releases everything the plugin holds. Idempotent. */
  close(): Promise<void>;
}

/** A plugin that offers prompts (clients show them as slash commands). */
export interface PromptCapability {
  /** May change like `tools`. */
  readonly prompts: readonly PromptDefinition[];
  /** Renders one of `prompts`; arguments are strings, as MCP sends them. */
  getPrompt(name: string, args: Record<string, string>, options: PromptOptions): Promise<PromptOutcome>;
}

/** A plugin that contributes to the server instructions of each client session. */
export interface InstructionsCapability {
  /** Asked once per session. */
  instructions(session: SessionInfo, signal: AbortSignal): Promise<string | undefined>;
}

/**
 * A plugin whose folder is also an agent skill (a SKILL.md with its files), served through
 * the MCP skills extension. `name` is the skill's name (SKILL.md frontmatter).
 */
export interface SkillCapability {
  readonly skill: { readonly folder: string; readonly name: string };
}

export function offersSkill(plugin: LoadedPlugin): plugin is LoadedPlugin & SkillCapability {
  const candidate = (plugin as Partial<SkillCapability>).skill;
  return typeof candidate?.folder === 'string' && typeof candidate.name === 'string';
}

export function offersPrompts(plugin: LoadedPlugin): plugin is LoadedPlugin & PromptCapability {
  const candidate = plugin as Partial<PromptCapability>;
  return Array.isArray(candidate.prompts) && typeof candidate.getPrompt === 'function';
}

export function offersInstructions(plugin: LoadedPlugin): plugin is LoadedPlugin & InstructionsCapability {
  return typeof (plugin as Partial<InstructionsCapability>).instructions === 'function';
}

export interface PluginAdapter<S extends PluginSpec = PluginSpec> {
  readonly kind: S['kind'];
  /** This kind's config block, including the base keys. */
  readonly spec: z.ZodType<S>;
  load(spec: S, context: AdapterContext): Promise<LoadedPlugin>;
}

export function defineAdapter<S extends PluginSpec>(adapter: PluginAdapter<S>): PluginAdapter<S> {
  return adapter;
}

/** A plugin block as the config has it before its kind is known: a path, maybe a kind, more keys. */
export type PluginBlock = { readonly path: string; readonly kind?: PluginKind | undefined; readonly id?: string | undefined } & Readonly<Record<string, unknown>>;
