// What each plugin offered the last time it loaded (its tools, prompts, skill folder, whether
// it gives instructions), kept in the cache folder so that a server can list tools before
// its plugins have loaded. A plugin served from here is provisional: its calls wait for the
// real plugin, and each runs only if the real plugin still defines the tool exactly as it was
// listed (arguments were checked and the policy decided against that definition). When the
// real plugin arrives, the server swaps it in; what changed reaches clients as list_changed.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { raceSignal } from '../core/abort.js';
import { canonicalJson } from '../core/canonical-json.js';
import { ErrorCode, ToolportError } from '../core/errors.js';
import { hashFileStats, listFingerprintFiles, writeFileAtomic } from '../core/files.js';
import { parsedOnce } from '../core/format.js';
import {
  offersInstructions,
  offersPrompts,
  offersSkill,
  pluginKinds,
  type InstructionsCapability,
  type LoadedPlugin,
  type PluginKind,
  type PromptCapability,
  type SkillCapability,
} from '../core/plugin.js';
import type { PromptDefinition } from '../core/prompt.js';
import type { ToolDefinition } from '../core/tool.js';

const keptSchema = z.object({
  key: z.string(),
  plugin: z.object({
    id: z.string(),
    kind: z.enum(pluginKinds),
    version: z.string().optional(),
    description: z.string().optional(),
    tools: z.array(z.looseObject({ name: z.string(), inputSchema: z.record(z.string(), z.unknown()) })),
    prompts: z.array(z.looseObject({ name: z.string() })).optional(),
    instructions: z.boolean(),
    skill: z.object({ folder: z.string(), name: z.string() }).optional(),
    stopGraceMs: z.number().optional(),
  }),
});

/** What a plugin offered when it last loaded. */
export interface KeptPlugin {
  readonly id: string;
  readonly kind: PluginKind;
  readonly version?: string | undefined;
  readonly description?: string | undefined;
  readonly tools: readonly ToolDefinition[];
  readonly prompts?: readonly PromptDefinition[] | undefined;
  readonly instructions: boolean;
  readonly skill?: { readonly folder: string; readonly name: string } | undefined;
  readonly stopGraceMs?: number | undefined;
}

/** Where a plugin's record is and what it must match: the plugin block and its local files. */
export interface CatalogueEntry {
  readonly file: string;
  readonly key: string;
}

/**
 * The record of one plugin block: keyed by toolport's version, the block as configured
 * (secret values left out) and, for a local plugin, its files' names, sizes and modification
 * times (a file, or every file under a folder, up to 2,000). A remote manifest cannot be
 * fingerprinted: its record is used and corrected once the manifest is fetched. Read
 * synchronously, like the Python load cache's fingerprint: awaited `stat`s would each wait
 * for the busy main thread.
 */
export function catalogueEntry(cacheDir: string, block: { readonly kind: PluginKind; readonly path: string }, resolvedPath: string | undefined, secrets: readonly (string | undefined)[], version: string): CatalogueEntry {
  const hidden = new Set(secrets);
  const blockText = JSON.stringify(block, (_key, value: unknown) => (typeof value === 'string' && hidden.has(value) ? '(secret)' : value));
  const hash = createHash('sha256').update(`${version}\0${blockText}`);
  if (resolvedPath !== undefined) {
    let files: string[] = [resolvedPath];
    try {
      if (statSync(resolvedPath).isDirectory()) {
        files = [];
        listFingerprintFiles(resolvedPath, files, { recursive: true });
        files.sort();
      }
    } catch {
      // Missing: the load will say so; the key still differs from a present file's.
    }
    hashFileStats(hash, files);
  }
  const key = hash.digest('hex');
  // One file per block: two blocks of one path with other ids or settings do not take turns
  // (blocks that differ only in a secret value share a record, as they share a key).
  const name = createHash('sha256').update(`${block.kind}\0${blockText}\0${resolvedPath ?? ''}`).digest('hex').slice(0, 32);
  return { file: join(cacheDir, 'catalogue', `${name}.json`), key };
}

/** A record as read: what it says, and its text (what a new record is compared with). */
export interface KeptRecord {
  readonly plugin: KeptPlugin;
  readonly text: string;
}

/** The record kept for `entry`, when it matches; read synchronously (one small file). */
export function readKept(entry: CatalogueEntry): KeptRecord | undefined {
  try {
    const text = readFileSync(entry.file, 'utf8');
    const parsed = keptSchema.safeParse(JSON.parse(text), parsedOnce);
    if (!parsed.success || parsed.data.key !== entry.key) return undefined;
    return { plugin: parsed.data.plugin, text };
  } catch {
    return undefined;
  }
}

/** What `plugin` offers now, as a record. */
function describePlugin(plugin: LoadedPlugin): KeptPlugin {
  return {
    id: plugin.id,
    kind: plugin.kind,
    ...(plugin.version !== undefined && { version: plugin.version }),
    ...(plugin.description !== undefined && { description: plugin.description }),
    tools: plugin.tools,
    ...(offersPrompts(plugin) && { prompts: plugin.prompts }),
    instructions: offersInstructions(plugin),
    ...(offersSkill(plugin) && { skill: { folder: plugin.skill.folder, name: plugin.skill.name } }),
    ...(plugin.stopGraceMs !== undefined && { stopGraceMs: plugin.stopGraceMs }),
  };
}

/**
 * Keeps what `plugin` offers for the next start, unless the record read says so already (the
 * same text: the same adapter writes its definitions in the same order).
 */
export async function keepPlugin(entry: CatalogueEntry, plugin: LoadedPlugin, previous: KeptRecord | undefined): Promise<void> {
  const text = JSON.stringify({ key: entry.key, plugin: describePlugin(plugin) });
  if (text !== previous?.text) await writeFileAtomic(entry.file, text);
}

/** How a provisional plugin learns about the real one. */
export interface ProvisionalPlugin extends LoadedPlugin {
  /** Settles with the real plugin, or with why it did not load. */
  readonly real: Promise<LoadedPlugin>;
}

/**
 * A plugin standing in for one still loading: it offers what `kept` says, and each call,
 * prompt and instructions request waits for `real` (`wake` is told first: loads may be held
 * back until someone needs them). A call runs only if the real plugin defines the tool as
 * `kept` does; otherwise it fails, saying the tool changed (the client gets list_changed).
 */
export function provisionalPlugin(kept: KeptPlugin, real: Promise<LoadedPlugin>, wake: () => void): ProvisionalPlugin {
  // Observed, so a plugin that fails to load while nobody waits is not an unhandled rejection.
  real.catch(() => undefined);
  let closed = false;
  const arrived = async (signal: AbortSignal | undefined): Promise<LoadedPlugin> => {
    wake();
    if (closed) throw new ToolportError(ErrorCode.ShuttingDown, 'the server is shutting down', { pluginId: kept.id });
    return raceSignal(real, signal);
  };
  const getPrompt: PromptCapability['getPrompt'] = async (name, args, options) => {
    const loaded = await arrived(options.signal);
    if (!offersPrompts(loaded)) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown prompt: ${name}`, { pluginId: kept.id });
    return loaded.getPrompt(name, args, options);
  };
  const instructions: InstructionsCapability['instructions'] = async (session, signal) => {
    const loaded = await arrived(signal);
    return offersInstructions(loaded) ? loaded.instructions(session, signal) : undefined;
  };
  const plugin: ProvisionalPlugin & Partial<PromptCapability & InstructionsCapability & SkillCapability> = {
    id: kept.id,
    kind: kept.kind,
    ...(kept.version !== undefined && { version: kept.version }),
    ...(kept.description !== undefined && { description: kept.description }),
    tools: kept.tools,
    ...(kept.stopGraceMs !== undefined && { stopGraceMs: kept.stopGraceMs }),
    ...(kept.prompts && { prompts: kept.prompts, getPrompt }),
    ...(kept.instructions && { instructions }),
    ...(kept.skill && { skill: kept.skill }),
    real,
    async call(tool, args, options) {
      const loaded = await arrived(options.signal);
      // The first of a name on both sides, as the registry lists it (a later one is disabled there).
      const now = loaded.tools.find((definition) => definition.name === tool);
      const listed = kept.tools.find((definition) => definition.name === tool);
      if (!now || !listed || canonicalJson(now) !== canonicalJson(listed)) {
        throw new ToolportError(
          ErrorCode.CallDenied,
          `${tool} changed while toolport was starting (it was listed as it was at the last start); list the tools again`,
          { pluginId: kept.id },
        );
      }
      return loaded.call(tool, args, options);
    },
    async close() {
      closed = true;
      const loaded = await real.catch(() => undefined);
      await loaded?.close();
    },
  };
  return plugin;
}
