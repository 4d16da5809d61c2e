// What the model sees of an agent.toml tool and how its answer becomes argv: one property
// per whole-argument `$NAME` placeholder (name kept exactly, as EvoClaw looks it up
// case-sensitively), typed and described from skill.toml [[tools]] where the skill has one.
import { basename } from 'node:path';
import type { JsonSchemaObject } from '../../core/tool.js';
import type { AgentToolEntry, Finding, ParameterDoc, SkillToolDoc } from './skill-files.js';

/** One argv slot: literal text, or the value of an argument. */
export type ArgSlot = { readonly literal: string } | { readonly placeholder: string };

export interface ToolPlan {
  readonly slots: readonly ArgSlot[];
  readonly inputSchema: JsonSchemaObject;
  /** Defaults from skill.toml, used when the model leaves an argument out. */
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly description: string;
}

/** Property names clients accept (the Anthropic API rejects others in input schemas). */
const propertyNamePattern = /^[A-Za-z0-9_.-]{1,64}$/;
const jsonTypes = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);

export function toToolPlan(entry: AgentToolEntry, doc: SkillToolDoc | undefined): { plan?: ToolPlan; findings: Finding[] } {
  const findings: Finding[] = [];
  const where = `agent.toml: tools.${entry.name}`;
  const slots: ArgSlot[] = [];
  const positions = new Map<string, number[]>();
  let broken = false;
  for (const [index, arg] of entry.args.entries()) {
    if (!arg.startsWith('$')) {
      if (/\$\{?[A-Za-z_]/.test(arg)) {
        findings.push({
          level: 'warning',
          tool: entry.name,
          message: `${where}.args[${index}]: "${arg}" is passed literally; only a whole argument "$NAME" is replaced (as in EvoClaw)`,
        });
      }
      slots.push({ literal: arg });
      continue;
    }
    const name = arg.slice(1);
    if (!propertyNamePattern.test(name)) {
      const hint = name.startsWith('{') ? ` (write "$${name.replace(/^\{|\}$/g, '')}")` : '';
      findings.push({
        level: 'error',
        tool: entry.name,
        message: `${where}.args[${index}]: "${arg}" is not a placeholder toolport can offer: after "$" expected 1-64 letters, digits, _ . or -${hint}; the tool is skipped`,
      });
      broken = true;
      continue;
    }
    slots.push({ placeholder: name });
    positions.set(name, [...(positions.get(name) ?? []), index + 1]);
  }
  if (broken) return { findings };

  const parameters = doc?.parameters ?? {};
  const properties: Record<string, Record<string, unknown>> = {};
  const defaults: Record<string, unknown> = {};
  const program = basename(entry.command);
  const describeSlot = (name: string): string => {
    const at = positions.get(name);
    if (!at) return `Given to ${program} as the environment variable SKILL_ARG_${name.toUpperCase()}.`;
    return `Argument ${at.join(', ')} of ${program}.`;
  };
  const toProperty = (name: string, param: ParameterDoc | undefined): Record<string, unknown> => {
    let type = param?.type ?? 'string';
    if (!jsonTypes.has(type)) {
      findings.push({ level: 'warning', tool: entry.name, message: `skill.toml: tools "${entry.name}" parameter "${name}": type "${type}" is not a JSON Schema type; string is used` });
      type = 'string';
    }
    if (param?.default !== undefined) defaults[name] = param.default;
    return {
      type,
      description: param?.description ?? describeSlot(name),
      ...(param?.default !== undefined && { default: param.default }),
      ...(param?.enum !== undefined && { enum: param.enum }),
    };
  };
  for (const name of positions.keys()) properties[name] = toProperty(name, parameters[name]);
  for (const [name, param] of Object.entries(parameters)) {
    if (properties[name]) continue;
    if (!propertyNamePattern.test(name)) {
      findings.push({ level: 'warning', tool: entry.name, message: `skill.toml: tools "${entry.name}" parameter "${name}" is not a usable property name; it is left out` });
      continue;
    }
    properties[name] = toProperty(name, param);
  }
  // EvoClaw's orchestrator takes `required` from skill.toml; without it every placeholder is required.
  const required =
    doc?.required !== undefined
      ? doc.required.filter((name) => name in properties)
      : [...positions.keys()].filter((name) => !(name in defaults));
  const inputSchema: JsonSchemaObject = {
    type: 'object',
    properties,
    ...(required.length > 0 && { required }),
    additionalProperties: false,
  };
  const description = doc?.description ?? entry.description ?? `Runs ${program}.`;
  return { plan: { slots, inputSchema, defaults, description }, findings };
}

/** argv and environment text for a value: strings as they are, anything else as JSON. */
export function toArgText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
