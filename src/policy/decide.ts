// The policy engine: rules over tool, plugin, kind, principal and arguments decide
// allow | ask | deny, evaluated deny → ask → allow, with defaults by side effects.
// `decide()` is pure, so every decision can be explained and table-tested.
import { z } from 'zod';
import { compileGlob, type GlobMatcher } from '../core/glob.js';
import type { SideEffects } from '../core/tool.js';
import { approvalChannelNames, type AskingChannel } from './approval-types.js';

export const actions = ['allow', 'ask', 'deny'] as const;
export type Action = (typeof actions)[number];

export const ruleSchema = z
  .strictObject({
    tool: z.string().min(1).optional(),
    plugin: z.string().min(1).optional(),
    kind: z.string().min(1).optional(),
    principal: z.string().min(1).optional(),
    /** Argument conditions: name → a glob (strings), a value, or a list of alternatives. */
    when: z.record(z.string(), z.unknown()).optional(),
    action: z.enum(actions),
    /** Shown to the model when the rule denies. */
    reason: z.string().optional(),
    /** For `ask`: who may approve, in order (default: approvals.channels). */
    channels: z.array(z.enum(approvalChannelNames)).min(1).optional(),
  });
export type Rule = z.output<typeof ruleSchema>;

export const policySchema = z.strictObject({
  /** For read-only tools (their format or the config's `readOnly` says so). */
  default: z.enum(actions).default('allow'),
  /** For tools that say they have side effects (or destructiveHint: true). */
  sideEffects: z.enum(actions).default('ask'),
  /** For tools that do not say whether they change anything. */
  unknownSideEffects: z.enum(actions).default('ask'),
  rules: z.array(ruleSchema).default([]),
});
export type PolicyConfig = z.output<typeof policySchema>;
export const defaultPolicy: PolicyConfig = { default: 'allow', sideEffects: 'ask', unknownSideEffects: 'ask', rules: [] };

/** What a decision is about. */
export interface PolicyCall {
  /** The final exposed name. */
  tool: string;
  plugin: string;
  kind: string;
  principal: string;
  /** Undefined when deciding without arguments (tools/list). */
  args?: Record<string, unknown> | undefined;
  sideEffects: SideEffects;
}

/** Made once per rule and default when the policy is compiled, and shared by every call it decides. */
export interface Decision {
  readonly action: Action;
  /** Index of the rule in policy.rules, or undefined for a default. */
  readonly ruleIndex?: number;
  /** `policy.rules[2] (tool: "*__delete_*")`, or `policy.sideEffects (the tool has side effects)`. */
  readonly because: string;
  readonly reason?: string;
  /** For `ask` by a rule that names them: who may approve. */
  readonly channels?: readonly AskingChannel[];
}

interface CompiledRule {
  rule: Rule;
  index: number;
  tool?: GlobMatcher;
  plugin?: GlobMatcher;
  kind?: GlobMatcher;
  principal?: GlobMatcher;
  when?: [string, (value: unknown) => boolean][];
  /** What the rule decides when it is the one that applies. */
  decision: Decision;
}

export interface CompiledPolicy {
  readonly config: PolicyConfig;
  readonly rules: readonly CompiledRule[];
  /** The decision when no rule matches, by the tool's side effects. */
  readonly byDefault: Readonly<Record<SideEffects, Decision>>;
}

function compileCondition(expected: unknown): (value: unknown) => boolean {
  if (Array.isArray(expected)) {
    const alternatives = expected.map(compileCondition);
    return (value) => alternatives.some((match) => match(value));
  }
  if (typeof expected === 'string') {
    const glob = compileGlob(expected);
    return (value) => typeof value === 'string' && glob(value);
  }
  const canonical = JSON.stringify(expected);
  return (value) => JSON.stringify(value) === canonical;
}

export function compilePolicy(config: PolicyConfig): CompiledPolicy {
  return {
    config,
    // Frozen: shared by every call, and handed to library callers (explain()).
    byDefault: Object.freeze({
      some: Object.freeze({ action: config.sideEffects, because: `policy.sideEffects: ${config.sideEffects} (the tool has side effects)` }),
      unknown: Object.freeze({ action: config.unknownSideEffects, because: `policy.unknownSideEffects: ${config.unknownSideEffects} (the tool does not say whether it changes anything)` }),
      none: Object.freeze({ action: config.default, because: `policy.default: ${config.default} (the tool is read-only)` }),
    }),
    rules: config.rules.map((rule, index) => ({
      rule,
      index,
      decision: Object.freeze({
        action: rule.action,
        ruleIndex: index,
        because: describeRule(rule, index),
        ...(rule.reason !== undefined && { reason: rule.reason }),
        ...(rule.channels !== undefined && { channels: Object.freeze([...rule.channels]) }),
      }),
      ...(rule.tool !== undefined && { tool: compileGlob(rule.tool) }),
      ...(rule.plugin !== undefined && { plugin: compileGlob(rule.plugin) }),
      ...(rule.kind !== undefined && { kind: compileGlob(rule.kind) }),
      ...(rule.principal !== undefined && { principal: compileGlob(rule.principal) }),
      ...(rule.when !== undefined && {
        when: Object.entries(rule.when).map(([name, expected]) => [name, compileCondition(expected)] as [string, (value: unknown) => boolean]),
      }),
    })),
  };
}

/** Describes a rule the way the config spells it: `policy.rules[1] (tool: "x__*", action: deny)`. */
export function describeRule(rule: Rule, index: number): string {
  const parts = (['tool', 'plugin', 'kind', 'principal'] as const)
    .filter((key) => rule[key] !== undefined)
    .map((key) => `${key}: ${JSON.stringify(rule[key])}`);
  if (rule.when) parts.push(`when: ${JSON.stringify(rule.when)}`);
  parts.push(`action: ${rule.action}`);
  return `policy.rules[${index}] (${parts.join(', ')})`;
}

/**
 * Whether a rule matches. Without arguments (listing), a rule with `when` conditions
 * cannot be known to match, so it is treated as not matching.
 */
function matches(compiled: CompiledRule, call: PolicyCall): boolean {
  if (compiled.tool && !compiled.tool(call.tool)) return false;
  if (compiled.plugin && !compiled.plugin(call.plugin)) return false;
  if (compiled.kind && !compiled.kind(call.kind)) return false;
  if (compiled.principal && !compiled.principal(call.principal)) return false;
  if (compiled.when) {
    if (!call.args) return false;
    for (const [name, condition] of compiled.when) {
      if (!condition(call.args[name])) return false;
    }
  }
  return true;
}

/** Deny before ask before allow. */
const precedence: Readonly<Record<Action, number>> = { deny: 0, ask: 1, allow: 2 };

/** Of the matching rules, the first (in config order) of the strongest action; else the default for the tool's side effects. */
export function decide(policy: CompiledPolicy, call: PolicyCall): Decision {
  let applies: CompiledRule | undefined;
  for (const compiled of policy.rules) {
    if (applies && precedence[compiled.rule.action] >= precedence[applies.rule.action]) continue;
    if (!matches(compiled, call)) continue;
    applies = compiled;
    if (compiled.rule.action === 'deny') break;
  }
  return applies ? applies.decision : policy.byDefault[call.sideEffects];
}

/** Whether a rule can match any of the given tools (for `toolport check`). */
export function ruleMatchesAny(policy: CompiledPolicy, index: number, tools: readonly Omit<PolicyCall, 'principal' | 'args'>[]): boolean {
  const compiled = policy.rules[index];
  if (!compiled) return false;
  return tools.some(
    (tool) =>
      (!compiled.tool || compiled.tool(tool.tool)) &&
      (!compiled.plugin || compiled.plugin(tool.plugin)) &&
      (!compiled.kind || compiled.kind(tool.kind)),
  );
}
