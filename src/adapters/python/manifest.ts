// ScaiWave manifests as the Python host reports them, checked with zod, and turned into
// toolport tool definitions: parameters → inputSchema, side_effects → annotations and
// "needs approval", permissions → declared permissions, usage → a slash-command prompt.
import { z } from 'zod';
import { formatZodIssues, parsedOnce } from '../../core/format.js';
import type { JsonSchemaObject, ToolAnnotations, ToolDefinition } from '../../core/tool.js';

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? undefined);

export const reportedToolSchema = z.object({
  name: z.string().regex(/\S/, 'must be a non-empty string'),
  description: nullish(z.string()),
  parameters: nullish(z.record(z.string(), z.unknown())),
  usage: nullish(z.string()),
  permissions_required: z.array(z.string()).default([]),
  side_effects: z.boolean().default(false),
});
export type ReportedTool = z.output<typeof reportedToolSchema>;

export const reportedManifestSchema = z.object({
  id: z.string().regex(/\S/, 'must be a non-empty string ("owner.name")'),
  name: nullish(z.string()),
  version: nullish(z.string()),
  description: nullish(z.string()),
  tools: z.array(reportedToolSchema),
  permissions: z.array(z.string()).default([]),
  injects_context: z.boolean().default(false),
  scope: nullish(z.string()),
});
export type ReportedManifest = z.output<typeof reportedManifestSchema>;

export const reportedPluginSchema = z.object({
  class: z.string(),
  manifest: z.unknown(),
  dynamic: z.boolean(),
  system_context: z.boolean(),
  sync_execute: z.boolean().default(false),
  dynamic_tools: z.array(z.unknown()).optional(),
});

export const loadResultSchema = z.object({
  python: z.string(),
  plugins: z.array(reportedPluginSchema),
});
export type LoadResult = z.output<typeof loadResultSchema>;

/** Reads one manifest; throws an Error whose message lists each problem with its path. */
export function toManifest(value: unknown, className: string): ReportedManifest {
  const parsed = reportedManifestSchema.safeParse(value, parsedOnce);
  if (parsed.success) return parsed.data;
  throw new Error(`invalid manifest of ${className}:\n  ${formatZodIssues(parsed.error.issues, ['manifest']).join('\n  ')}`);
}

/** Reads a get_dynamic_tools answer; tools that do not parse are reported and skipped. */
export function toDynamicTools(values: readonly unknown[], report: (message: string) => void): ReportedTool[] {
  const tools: ReportedTool[] = [];
  for (const [index, value] of values.entries()) {
    const parsed = reportedToolSchema.safeParse(value, parsedOnce);
    if (parsed.success) tools.push(parsed.data);
    else report(`get_dynamic_tools()[${index}] is skipped: ${formatZodIssues(parsed.error.issues, []).join('; ')}`);
  }
  return tools;
}

/** The meta key under which ScaiWave-specific facts of a tool are shown to clients. */
export const scaiwaveMetaKey = 'toolport/scaiwave';

export interface ToolSource {
  manifest: ReportedManifest;
  tool: ReportedTool;
  dynamic: boolean;
}

/** Every permission a tool needs: the plugin's own plus the tool's `permissions_required`. */
export function requiredPermissions(source: ToolSource): string[] {
  return [...new Set([...source.manifest.permissions, ...source.tool.permissions_required])];
}

export function toToolDefinition(name: string, source: ToolSource, notGranted: (permissions: readonly string[]) => string[]): ToolDefinition {
  const { manifest, tool } = source;
  const permissions = requiredPermissions(source);
  const missing = notGranted(permissions);
  // ScaiWave asks authors to set side_effects on every tool that mutates anything, so a
  // tool without it is read-only by the platform's own contract.
  const annotations: ToolAnnotations = tool.side_effects ? { readOnlyHint: false, destructiveHint: true } : { readOnlyHint: true };
  if (permissions.includes('EXTERNAL_HTTP')) annotations.openWorldHint = true;
  const inputSchema: JsonSchemaObject = tool.parameters ?? { type: 'object', properties: {} };
  return {
    name,
    ...(tool.description !== undefined && { description: tool.description }),
    inputSchema,
    annotations,
    sideEffects: tool.side_effects,
    ...(permissions.length > 0 && { permissions }),
    meta: {
      [scaiwaveMetaKey]: {
        plugin: manifest.id,
        ...(tool.usage !== undefined && { usage: tool.usage }),
        ...(manifest.scope !== undefined && { scope: manifest.scope }),
        ...(source.dynamic && { dynamic: true }),
        ...(missing.length > 0 && { missingGrants: missing }),
      },
    },
  };
}

export interface UsageCommand {
  /** The slash command without its slash, e.g. `greet`. */
  command: string;
  arguments: { name: string; required: boolean }[];
}

/**
 * Reads a ScaiWave usage hint such as `[/greet <language> [name]]`: the command, then
 * `<required>` and `[optional]` arguments. Undefined when it names no slash command.
 */
export function parseUsage(usage: string): UsageCommand | undefined {
  const text = usage.trim().replace(/^\[(.*)\]$/s, '$1').trim();
  const head = /^\/([A-Za-z0-9_.:-]+)/.exec(text);
  if (!head?.[1]) return undefined;
  const rest = text.slice(head[0].length);
  const args: UsageCommand['arguments'] = [];
  const seen = new Set<string>();
  for (const match of rest.matchAll(/\[\s*<?([A-Za-z0-9_-]+)>?[^\]]*\]|<([A-Za-z0-9_-]+)>/g)) {
    const optional = match[1];
    const name = optional ?? match[2];
    if (!name || seen.has(name)) continue;
    seen.add(name);
    args.push({ name, required: optional === undefined });
  }
  return { command: head[1], arguments: args };
}
