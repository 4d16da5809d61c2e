// Reads the files of an EvoClaw skill folder: SKILL.md frontmatter (who the skill is, what it
// may use), agent.toml [tools.NAME] (what to run) and the optional skill.toml [[tools]] (typed,
// described parameters). Problems name the file and the key.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatZodIssues, parsedOnce } from '../../core/format.js';
import { describeThrown } from '../../core/errors.js';
import { isPlainObject } from '../../core/tool.js';

export interface Finding {
  readonly level: 'error' | 'warning' | 'info';
  readonly message: string;
  readonly tool?: string;
}

/** A problem that stops the whole skill from loading. */
export class SkillFileError extends Error {
  override readonly name = 'SkillFileError';
}

export interface SkillManifest {
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly description: string | undefined;
  readonly author: string | undefined;
  readonly license: string | undefined;
  readonly permissions: readonly string[];
  /** Variables the skill says it needs from the environment. */
  readonly env: readonly string[];
}

export interface AgentToolEntry {
  readonly name: string;
  readonly command: string;
  readonly description: string | undefined;
  readonly args: readonly string[];
  readonly env: readonly string[];
  /** As written; EvoClaw treats a missing or non-positive value as its default. */
  readonly timeoutSecs: number | undefined;
}

export interface ParameterDoc {
  readonly type?: string | undefined;
  readonly description?: string | undefined;
  readonly default?: unknown;
  readonly enum?: readonly unknown[] | undefined;
}

export interface SkillToolDoc {
  readonly description: string | undefined;
  readonly parameters: Readonly<Record<string, ParameterDoc>>;
  readonly required: readonly string[] | undefined;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

// ---------------------------------------------------------------- SKILL.md

/** YAML scalars stay strings (failsafe schema), so `version: 1.10` is "1.10", not 1.1. */
const listOfStrings = z.preprocess((value) => (value === '' ? [] : value), z.array(z.string({ error: 'must be a string' }), { error: 'must be a list of strings' }));
const frontmatterSchema = z.looseObject({
  name: z.string({ error: 'must be a string' }).optional(),
  version: z.string({ error: 'must be a string' }).optional(),
  description: z.string({ error: 'must be a string' }).optional(),
  author: z.string({ error: 'must be a string' }).optional(),
  license: z.string({ error: 'must be a string' }).optional(),
  metadata: z
    .looseObject({
      evoclaw: z
        .strictObject({ permissions: listOfStrings.optional(), env: listOfStrings.optional() })
        .optional(),
    }, { error: 'must be a mapping' })
    .optional(),
});
const knownFrontmatterKeys = new Set(['name', 'version', 'description', 'author', 'license', 'metadata']);

/** The YAML between the first two lines that are exactly `---` (EvoClaw's rule). */
function extractFrontmatter(text: string): string | undefined {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const fences: number[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '---') fences.push(index);
    if (fences.length === 2) break;
  }
  if (fences.length < 2) return undefined;
  return lines.slice((fences[0] as number) + 1, fences[1]).join('\n');
}

export async function readSkillManifest(dir: string): Promise<{ manifest: SkillManifest; findings: Finding[] }> {
  const text = await readOptional(join(dir, 'SKILL.md'));
  if (text === undefined) throw new SkillFileError('SKILL.md: not found; a skill folder needs SKILL.md with YAML frontmatter and agent.toml');
  const yaml = extractFrontmatter(text);
  if (yaml === undefined) {
    throw new SkillFileError('SKILL.md: no frontmatter; the file must start with YAML between two "---" lines (name, version, description, metadata.evoclaw.permissions)');
  }
  let raw: unknown;
  try {
    raw = parseYaml(yaml, { schema: 'failsafe' });
  } catch (error) {
    throw new SkillFileError(`SKILL.md: the frontmatter is not valid YAML (${describeThrown(error).split('\n')[0]})`);
  }
  if (raw === null || raw === undefined || raw === '') raw = {};
  if (!isPlainObject(raw)) throw new SkillFileError('SKILL.md: the frontmatter must be a mapping of keys (name, version, description, ...)');
  const parsed = frontmatterSchema.safeParse(raw, parsedOnce);
  if (!parsed.success) {
    throw new SkillFileError(`SKILL.md: invalid frontmatter:\n  ${formatZodIssues(parsed.error.issues).join('\n  ')}`);
  }
  const findings: Finding[] = [];
  for (const key of Object.keys(raw)) {
    if (!knownFrontmatterKeys.has(key)) {
      findings.push({ level: 'warning', message: `SKILL.md: unknown frontmatter key "${key}" is ignored` });
    }
  }
  const data = parsed.data;
  const evoclaw = data.metadata?.evoclaw;
  return {
    manifest: {
      name: data.name?.trim() || undefined,
      version: data.version,
      description: data.description,
      author: data.author,
      license: data.license,
      permissions: evoclaw?.permissions ?? [],
      env: evoclaw?.env ?? [],
    },
    findings,
  };
}

// ---------------------------------------------------------------- agent.toml

function tomlProblem(file: string, error: unknown): SkillFileError {
  if (error instanceof TomlError) {
    const first = error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'invalid TOML';
    return new SkillFileError(`${file}: line ${error.line}, column ${error.column}: ${first}`);
  }
  return new SkillFileError(`${file}: cannot parse (${describeThrown(error)})`);
}

const agentToolSchema = z.strictObject({
  command: z.string({ error: 'must be a string: the program to run' }).min(1, 'must not be empty'),
  description: z.string({ error: 'must be a string' }).optional(),
  args: z.array(z.string({ error: 'must be a string' }), { error: 'must be a list of strings' }).default([]),
  env: z.array(z.string({ error: 'must be a string' }), { error: 'must be a list of "KEY=value" strings' }).default([]),
  timeout_secs: z.number({ error: 'must be a number of seconds' }).max(86_400, 'must be at most 86400').optional(),
});

/** The tools of agent.toml; `missing` when the folder has none (a SKILL.md-only skill: instructions, no tools). */
export async function readAgentTools(dir: string): Promise<{ tools: AgentToolEntry[]; findings: Finding[]; missing?: true }> {
  const text = await readOptional(join(dir, 'agent.toml'));
  if (text === undefined) return { tools: [], findings: [], missing: true };
  let raw: Record<string, unknown>;
  try {
    raw = parseToml(text);
  } catch (error) {
    throw tomlProblem('agent.toml', error);
  }
  const findings: Finding[] = [];
  for (const key of Object.keys(raw)) {
    if (key !== 'tools') findings.push({ level: 'warning', message: `agent.toml: "${key}" is ignored (only [tools.NAME] tables are read)` });
  }
  const table = raw.tools;
  if (table === undefined) throw new SkillFileError('agent.toml: no [tools.NAME] tables; declare at least one tool');
  if (!isPlainObject(table)) throw new SkillFileError('agent.toml: "tools" must be a table of [tools.NAME] tables');
  const tools: AgentToolEntry[] = [];
  for (const [name, value] of Object.entries(table)) {
    if (!isPlainObject(value)) {
      findings.push({ level: 'error', tool: name, message: `agent.toml: tools.${name} must be a table with command, args, description; the tool is skipped` });
      continue;
    }
    const parsed = agentToolSchema.safeParse(value, parsedOnce);
    if (!parsed.success) {
      for (const line of formatZodIssues(parsed.error.issues, ['tools', name], agentToolSchema)) {
        findings.push({ level: 'error', tool: name, message: `agent.toml: ${line}; the tool is skipped` });
      }
      continue;
    }
    const entry = parsed.data;
    tools.push({
      name,
      command: entry.command,
      description: entry.description,
      args: entry.args,
      env: entry.env,
      timeoutSecs: entry.timeout_secs,
    });
  }
  return { tools, findings };
}

// ---------------------------------------------------------------- skill.toml

const parameterDocSchema = z.looseObject({
  type: z.string().optional(),
  description: z.string().optional(),
  default: z.unknown().optional(),
  enum: z.array(z.unknown()).optional(),
});
const skillTomlToolSchema = z.looseObject({
  name: z.string({ error: 'must be a string' }).min(1),
  description: z.string().optional(),
  parameters: z
    .looseObject({
      properties: z.record(z.string(), parameterDocSchema).default({}),
      required: z.array(z.string()).optional(),
    })
    .optional(),
});

/** skill.toml is EvoClaw's orchestrator file; it only improves schemas, so its problems are warnings. */
export async function readSkillToolDocs(dir: string): Promise<{ docs: Map<string, SkillToolDoc>; findings: Finding[] }> {
  const docs = new Map<string, SkillToolDoc>();
  const findings: Finding[] = [];
  const text = await readOptional(join(dir, 'skill.toml'));
  if (text === undefined) return { docs, findings };
  let raw: Record<string, unknown>;
  try {
    raw = parseToml(text);
  } catch (error) {
    findings.push({ level: 'warning', message: `${tomlProblem('skill.toml', error).message}; its parameter types and descriptions are not used` });
    return { docs, findings };
  }
  if (raw.tools === undefined) return { docs, findings };
  if (!Array.isArray(raw.tools)) {
    findings.push({ level: 'warning', message: 'skill.toml: "tools" must be an array of [[tools]] tables; it is not used' });
    return { docs, findings };
  }
  for (const [index, value] of raw.tools.entries()) {
    const parsed = skillTomlToolSchema.safeParse(value, parsedOnce);
    if (!parsed.success) {
      for (const line of formatZodIssues(parsed.error.issues, ['tools', index])) {
        findings.push({ level: 'warning', message: `skill.toml: ${line}; this entry is not used` });
      }
      continue;
    }
    const tool = parsed.data;
    docs.set(tool.name, {
      description: tool.description,
      parameters: tool.parameters?.properties ?? {},
      required: tool.parameters?.required,
    });
  }
  return { docs, findings };
}
