// Tool-definition pinning: the first time a plugin is seen, each of its tools' definitions
// (what the model reads and what the policy goes by) is hashed over canonical JSON and kept
// as its pin. A definition that later differs from its pin (an update, a compromised
// package, a remote manifest that changed) or a new tool of a plugin already pinned is
// held back per `pins.onChange` / `pins.onNewTool` until someone accepts it with
// `toolport pins approve`: quarantined (hidden, refused by name), asked about on every
// call, or only warned about. Each change is told to the hooks (pin_changed), the event
// stream and the audit log, once per definition seen.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../core/logger.js';
import type { ExposedTool } from '../core/registry.js';
import type { AuditLog } from './audit.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { HookBus } from './hooks.js';
import type { PinFile, PinnedDefinition, PinStore, PluginPins, SeenDefinition } from './pin-store.js';

export const pinActions = ['quarantine', 'ask', 'warn'] as const;
export type PinAction = (typeof pinActions)[number];

export const pinsSchema = z.strictObject({
  /** A pinned tool whose definition changed. */
  onChange: z.enum(pinActions).default('quarantine'),
  /** A tool that appeared in a plugin whose tools are already pinned. */
  onNewTool: z.enum(pinActions).default('quarantine'),
});
export type PinsConfig = z.output<typeof pinsSchema>;
export const defaultPins: PinsConfig = { onChange: 'quarantine', onNewTool: 'quarantine' };

export type PinVerdict =
  | { readonly state: 'pinned' }
  | {
      readonly state: 'changed' | 'new';
      readonly action: PinAction;
      /** The accepted definition (absent for a new tool). */
      readonly pinned: { readonly digest: string; readonly definition: PinnedDefinition; readonly pinnedAt: string } | undefined;
      readonly current: { readonly digest: string; readonly definition: PinnedDefinition };
    };

/** The definition a pin covers, as the tool is exposed now. */
export function pinnedDefinitionOf(tool: ExposedTool): PinnedDefinition {
  const { definition, mcpTool } = tool;
  return {
    name: definition.name,
    ...(definition.title !== undefined && { title: definition.title }),
    ...(definition.description !== undefined && { description: definition.description }),
    inputSchema: mcpTool.inputSchema,
    ...(definition.outputSchema !== undefined && { outputSchema: definition.outputSchema }),
    ...(definition.annotations !== undefined && { annotations: definition.annotations }),
    ...(definition.permissions !== undefined && definition.permissions.length > 0 && { permissions: [...definition.permissions] }),
    ...(definition.sideEffects !== undefined && { sideEffects: definition.sideEffects }),
  };
}

export function definitionDigest(definition: PinnedDefinition): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

/** The verdict of most calls, one object for all of them. */
const pinned: PinVerdict = Object.freeze({ state: 'pinned' });

const pluginKeys = new WeakMap<ExposedTool['plugin'], string>();

/**
 * The key a plugin's pins are kept under: its id and where it comes from. Made once per
 * plugin: every call looks its pins up by it, and the same string keeps its hash.
 */
export function pluginKeyOf(tool: Pick<ExposedTool, 'plugin'>): string {
  let key = pluginKeys.get(tool.plugin);
  if (key === undefined) {
    key = `${tool.plugin.id} ${tool.plugin.source}`;
    pluginKeys.set(tool.plugin, key);
  }
  return key;
}

/** What changed, in a few words: "description, input schema". */
export function changedParts(before: PinnedDefinition | undefined, after: PinnedDefinition): string {
  if (!before) return 'a new tool';
  const parts: [keyof PinnedDefinition, string][] = [
    ['title', 'title'],
    ['description', 'description'],
    ['inputSchema', 'input schema'],
    ['outputSchema', 'output schema'],
    ['annotations', 'annotations'],
    ['permissions', 'declared permissions'],
    ['sideEffects', 'declared side effects'],
  ];
  const changed = parts.filter(([key]) => canonicalJson(before[key]) !== canonicalJson(after[key])).map(([, label]) => label);
  return changed.length > 0 ? changed.join(', ') : 'the definition';
}

/** The definition as lines a person reads: the description as written, schemas as indented JSON. */
function definitionLines(definition: PinnedDefinition | undefined): string[] {
  if (!definition) return [];
  const lines: string[] = [];
  if (definition.title !== undefined) lines.push(`title: ${definition.title}`);
  lines.push('description:', ...(definition.description ?? '(none)').split('\n').map((line) => `  ${line}`));
  const json = (label: string, value: unknown): void => {
    if (value === undefined) return;
    lines.push(`${label}:`, ...JSON.stringify(JSON.parse(canonicalJson(value)), null, 2).split('\n').map((line) => `  ${line}`));
  };
  json('input schema', definition.inputSchema);
  json('output schema', definition.outputSchema);
  json('annotations', definition.annotations);
  if (definition.permissions) lines.push(`declared permissions: ${definition.permissions.join(', ')}`);
  if (definition.sideEffects !== undefined) lines.push(`declared side effects: ${definition.sideEffects}`);
  return lines;
}

/** A line diff (longest common subsequence): `  ` same, `- ` pinned only, `+ ` new only. */
export function diffLines(before: readonly string[], after: readonly string[]): string[] {
  const n = before.length;
  const m = after.length;
  const lengths: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lengths[i]![j] = before[i] === after[j] ? lengths[i + 1]![j + 1]! + 1 : Math.max(lengths[i + 1]![j]!, lengths[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      out.push(`  ${before[i]}`);
      i += 1;
      j += 1;
    } else if (j < m && (i >= n || lengths[i]![j + 1]! >= lengths[i + 1]![j]!)) {
      out.push(`+ ${after[j]}`);
      j += 1;
    } else {
      out.push(`- ${before[i]}`);
      i += 1;
    }
  }
  return out;
}

/** The readable diff of a pinned and a seen definition. */
export function renderDefinitionDiff(before: PinnedDefinition | undefined, after: PinnedDefinition): string {
  return diffLines(definitionLines(before), definitionLines(after)).join('\n');
}

/** A short account of a change for an approval prompt: what changed and the description before and after. */
export function describeChangeForPrompt(verdict: Exclude<PinVerdict, { state: 'pinned' }>): string {
  const clip = (text: string | undefined): string => {
    const value = text ?? '(none)';
    return value.length > 400 ? `${value.slice(0, 400)}…` : value;
  };
  if (verdict.state === 'new') return `This tool is new since its plugin was pinned.\nDescription: ${clip(verdict.current.definition.description)}`;
  return [
    `Its definition changed since it was pinned on ${verdict.pinned?.pinnedAt ?? 'an earlier start'} (${changedParts(verdict.pinned?.definition, verdict.current.definition)}).`,
    `Description before: ${clip(verdict.pinned?.definition.description)}`,
    `Description now: ${clip(verdict.current.definition.description)}`,
  ].join('\n');
}

/**
 * The policy decision once the pin is considered: `ask` for a changed or new definition
 * under pins: ask (a denial stands); otherwise the decision as it was.
 */
export function withPinDecision<D extends { action: string; because: string; channels?: readonly unknown[] | undefined }>(decision: D, verdict: PinVerdict): D | { action: 'ask'; because: string; channels?: D['channels'] } {
  if (verdict.state === 'pinned' || verdict.action !== 'ask' || decision.action === 'deny') return decision;
  return {
    action: 'ask',
    because: verdict.state === 'new' ? 'pins.onNewTool (a new tool of a pinned plugin)' : 'pins.onChange (the definition changed since it was pinned)',
    ...(decision.channels && { channels: decision.channels }),
  };
}

export interface PinGuardOptions {
  readonly config: PinsConfig;
  readonly store: PinStore;
  readonly logger: Logger;
  readonly hooks: HookBus;
  readonly audit: AuditLog | undefined;
  /** The tools exposed now (for deciding whether an outside change matters). */
  readonly tools: () => readonly ExposedTool[];
  /** Tools that are not pinned (registered in code by the embedding program). */
  readonly exempt: (tool: ExposedTool) => boolean;
  /**
   * Whether this process tells about changes (log, pin_changed, audit). One-shot commands
   * print them as diagnostics instead, so a change is told by the server, once.
   */
  readonly announce: boolean;
}

export interface PinGuard {
  /** How the tool stands against its pin; a tool of a plugin seen for the first time counts as pinned. */
  verdict(tool: ExposedTool): PinVerdict;
  /** Pins the tools of plugins seen for the first time and records (and tells about) changed or new definitions. */
  review(tools: readonly ExposedTool[]): void;
  /** Accepts the definitions seen for these tools: they become their pins. Resolves with what was approved. */
  approve(select: { tools?: readonly ExposedTool[]; pluginId?: string }, by: string): Promise<ApprovedPin[]>;
  /** The pins as stored now. */
  read(): Promise<PinFile>;
  /** Calls `listener` when pins changed elsewhere in a way that changes a verdict. */
  onOutsideChange(listener: () => void): () => void;
  /** Waits for the writes queued so far. */
  flush(): Promise<void>;
  close(): void;
}

export interface ApprovedPin {
  readonly plugin: string;
  readonly source: string;
  readonly tool: string;
  readonly digest: string;
}

export async function createPinGuard(options: PinGuardOptions): Promise<PinGuard> {
  const { config, store, logger, hooks, audit } = options;
  let state = await store.read();
  const digests = new WeakMap<ExposedTool, { digest: string; definition: PinnedDefinition }>();
  /** Changes already told about (plugin key, tool, digest), so each is told once. */
  const told = new Set<string>();
  const listeners = new Set<() => void>();
  let writes: Promise<unknown> = Promise.resolve();

  const currentOf = (tool: ExposedTool): { digest: string; definition: PinnedDefinition } => {
    let entry = digests.get(tool);
    if (!entry) {
      const definition = pinnedDefinitionOf(tool);
      entry = { digest: definitionDigest(definition), definition };
      digests.set(tool, entry);
    }
    return entry;
  };

  const verdictIn = (file: PinFile, tool: ExposedTool): PinVerdict => {
    if (options.exempt(tool)) return pinned;
    const plugin = file.plugins[pluginKeyOf(tool)];
    if (!plugin) return pinned;
    const pin = plugin.tools[tool.definition.name];
    const current = currentOf(tool);
    if (!pin) return { state: 'new', action: config.onNewTool, pinned: undefined, current };
    if (pin.digest === current.digest) return pinned;
    return { state: 'changed', action: config.onChange, pinned: pin, current };
  };

  const persist = (change: (file: PinFile) => void): void => {
    const write = store.update(change).catch((error: unknown) => logger.error({ err: error, pins: store.location }, 'pins could not be stored'));
    writes = writes.then(() => write);
  };

  const tell = (tool: ExposedTool, verdict: Exclude<PinVerdict, { state: 'pinned' }>): void => {
    if (!options.announce) return;
    const key = `${pluginKeyOf(tool)}\u0000${tool.definition.name}\u0000${verdict.current.digest}`;
    if (told.has(key)) return;
    told.add(key);
    const what = changedParts(verdict.pinned?.definition, verdict.current.definition);
    const consequence = { quarantine: 'it is hidden and refused until approved', ask: 'every call asks for approval until it is approved', warn: 'it is served anyway (pins: warn)' }[verdict.action];
    logger.warn(
      { tool: tool.name, plugin: tool.plugin.id, pinned: verdict.pinned?.digest, current: verdict.current.digest },
      `${tool.name}: ${verdict.state === 'new' ? 'a new tool of a pinned plugin' : `its ${what} changed since it was pinned`}; ${consequence} (toolport pins diff ${tool.name}; toolport pins approve ${tool.name})`,
    );
    // What the hooks, the event stream and the audit are told: the same facts.
    const change = {
      time: new Date().toISOString(),
      tool: tool.name,
      plugin: tool.plugin.id,
      change: verdict.state,
      action: verdict.action,
      changed: what,
      pinnedDigest: verdict.pinned?.digest,
      currentDigest: verdict.current.digest,
    };
    hooks.notify({ type: 'pin_changed', ...change });
    audit
      ?.write({ ...change, phase: 'pin' })
      .catch((error: unknown) => logger.error({ err: error }, 'the audit record of a pin change could not be written'));
  };

  const review = (tools: readonly ExposedTool[]): void => {
    const firstSight = new Map<string, ExposedTool[]>();
    const seen: { key: string; name: string; entry: SeenDefinition }[] = [];
    const settled: { key: string; name: string }[] = [];
    for (const tool of tools) {
      if (options.exempt(tool)) continue;
      const key = pluginKeyOf(tool);
      if (!state.plugins[key]) {
        firstSight.set(key, [...(firstSight.get(key) ?? []), tool]);
        continue;
      }
      const verdict = verdictIn(state, tool);
      const pending = state.plugins[key]?.pending[tool.definition.name];
      if (verdict.state === 'pinned') {
        if (pending) settled.push({ key, name: tool.definition.name });
        continue;
      }
      if (pending?.digest !== verdict.current.digest) {
        seen.push({ key, name: tool.definition.name, entry: { digest: verdict.current.digest, definition: verdict.current.definition, seenAt: new Date().toISOString(), change: verdict.state } });
      }
      tell(tool, verdict);
    }
    if (firstSight.size === 0 && seen.length === 0 && settled.length === 0) return;
    const pinnedAt = new Date().toISOString();
    const apply = (file: PinFile): void => {
      for (const [key, group] of firstSight) {
        if (file.plugins[key]) continue;
        const first = group[0] as ExposedTool;
        const plugin: PluginPins = { id: first.plugin.id, source: first.plugin.source, tools: {}, pending: {} };
        for (const tool of group) {
          const { digest, definition } = currentOf(tool);
          plugin.tools[tool.definition.name] = { digest, definition, pinnedAt };
        }
        file.plugins[key] = plugin;
      }
      for (const { key, name, entry } of seen) {
        const plugin = file.plugins[key];
        if (plugin) plugin.pending[name] = entry;
      }
      for (const { key, name } of settled) delete file.plugins[key]?.pending[name];
    };
    apply(state);
    for (const [key, group] of firstSight) logger.info({ plugin: group[0]?.plugin.id, tools: group.length }, `pinned the tools of a plugin seen for the first time (${key})`);
    persist(apply);
  };

  /** The tools held back now, by exposed name. */
  const heldBack = (file: PinFile): Set<string> =>
    new Set(
      options
        .tools()
        .filter((tool) => verdictIn(file, tool).state !== 'pinned')
        .map((tool) => tool.name),
    );

  const unwatch = store.watch(() => {
    store.read().then(
      (file) => {
        const before = heldBack(state);
        // Keep what this process pinned but has not written yet.
        for (const [key, plugin] of Object.entries(state.plugins)) file.plugins[key] ??= plugin;
        state = file;
        const after = heldBack(state);
        if (before.size === after.size && [...before].every((name) => after.has(name))) return;
        // Approved elsewhere (`toolport pins approve`): this server's hooks and event stream hear it too.
        if (options.announce) {
          const time = new Date().toISOString();
          for (const tool of options.tools()) {
            if (!before.has(tool.name) || after.has(tool.name)) continue;
            const digest = currentOf(tool).digest;
            hooks.notify({ type: 'pin_changed', time, tool: tool.name, plugin: tool.plugin.id, change: 'approved', action: 'pinned', changed: 'approved', pinnedDigest: digest, currentDigest: digest });
          }
        }
        for (const listener of listeners) listener();
      },
      (error: unknown) => logger.warn({ err: error, pins: store.location }, 'pins changed on disk but could not be read; keeping the ones read before'),
    );
  });

  return {
    verdict: (tool) => verdictIn(state, tool),
    review,
    async approve(select, by) {
      await writes;
      const wanted = (key: string, plugin: PluginPins, name: string): boolean =>
        select.pluginId !== undefined ? plugin.id === select.pluginId : (select.tools ?? []).some((tool) => pluginKeyOf(tool) === key && tool.definition.name === name);
      // What this process sees now, for tools whose change no process has recorded.
      const currentByKey = new Map<string, { tool: ExposedTool; current: { digest: string; definition: PinnedDefinition } }>();
      for (const tool of [...(select.tools ?? []), ...options.tools()]) {
        const verdict = verdictIn(state, tool);
        if (verdict.state !== 'pinned') currentByKey.set(`${pluginKeyOf(tool)}\u0000${tool.definition.name}`, { tool, current: verdict.current });
      }
      const approved: ApprovedPin[] = [];
      const pinnedAt = new Date().toISOString();
      state = await store.update((file) => {
        approved.length = 0;
        const accept = (plugin: PluginPins, name: string, digest: string, definition: PinnedDefinition): void => {
          plugin.tools[name] = { digest, definition, pinnedAt, approvedBy: by };
          delete plugin.pending[name];
          approved.push({ plugin: plugin.id, source: plugin.source, tool: name, digest });
        };
        for (const [key, plugin] of Object.entries(file.plugins)) {
          for (const [name, seen] of Object.entries(plugin.pending)) {
            if (wanted(key, plugin, name)) accept(plugin, name, seen.digest, seen.definition);
          }
        }
        for (const [joined, { tool, current }] of currentByKey) {
          const [key, name] = joined.split('\u0000') as [string, string];
          const plugin = file.plugins[key];
          if (!plugin || !wanted(key, plugin, name) || approved.some((entry) => entry.source === plugin.source && entry.plugin === plugin.id && entry.tool === name)) continue;
          if (plugin.tools[name]?.digest === current.digest) continue;
          accept(plugin, tool.definition.name, current.digest, current.definition);
        }
      });
      // The audit line here; hooks and the event stream hear it from every process watching the pins (see above).
      const time = new Date().toISOString();
      for (const entry of approved) {
        const exposed = options.tools().find((tool) => tool.plugin.id === entry.plugin && tool.plugin.source === entry.source && tool.definition.name === entry.tool);
        const name = exposed?.name ?? `${entry.plugin}/${entry.tool}`;
        await audit?.write({ time, phase: 'pin', tool: name, plugin: entry.plugin, change: 'approved', action: 'pinned', changed: `approved by ${by}`, pinnedDigest: entry.digest, currentDigest: entry.digest });
      }
      return approved;
    },
    read: () => store.read(),
    onOutsideChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async flush() {
      await writes;
    },
    close: unwatch,
  };
}
