// decide() as a table: precedence, globs, defaults, principals and argument conditions.
import { describe, expect, it } from 'vitest';
import { compilePolicy, decide, type PolicyCall, type PolicyConfig, type Rule } from '../../src/policy/decide.js';

const base: PolicyCall = { tool: 'shop__order', plugin: 'shop', kind: 'python', principal: 'alice', args: { item: 'burger', count: 1 }, sideEffects: 'none' };

function policy(rules: Rule[], defaults: Partial<PolicyConfig> = {}) {
  return compilePolicy({ default: 'allow', sideEffects: 'ask', unknownSideEffects: 'ask', rules, ...defaults });
}

describe('decide', () => {
  it.each<[string, Rule[], Partial<PolicyCall>, string, number | undefined]>([
    ['no rules, read-only → default allow', [], {}, 'allow', undefined],
    ['no rules, side effects unknown → ask', [], { sideEffects: 'unknown' }, 'ask', undefined],
    ['an allow rule overrides the unknown-side-effects default', [{ tool: 'shop__*', action: 'allow' }], { sideEffects: 'unknown' }, 'allow', 0],
    ['no rules, side effects → ask', [], { sideEffects: 'some' }, 'ask', undefined],
    ['deny beats ask and allow, whatever the order', [{ tool: '*', action: 'allow' }, { tool: 'shop__*', action: 'ask' }, { plugin: 'shop', action: 'deny' }], {}, 'deny', 2],
    ['ask beats allow', [{ tool: 'shop__order', action: 'allow' }, { kind: 'python', action: 'ask' }], {}, 'ask', 1],
    ['an allow rule overrides the side-effects default', [{ tool: 'shop__order', action: 'allow' }], { sideEffects: 'some' }, 'allow', 0],
    ['the first matching rule of the winning action is named', [{ tool: 'shop__*', action: 'deny' }, { tool: '*__order', action: 'deny' }], {}, 'deny', 0],
    ['glob ? matches one character', [{ tool: 'shop__orde?', action: 'deny' }], {}, 'deny', 0],
    ['glob does not match a prefix only', [{ tool: 'shop__ord', action: 'deny' }], {}, 'allow', undefined],
    ['glob metacharacters in names are literal', [{ tool: 'shop.order', action: 'deny' }], { tool: 'shopXorder' }, 'allow', undefined],
    ['principal must match', [{ tool: '*', principal: 'bob', action: 'deny' }], {}, 'allow', undefined],
    ['principal glob', [{ tool: '*', principal: 'ali*', action: 'deny' }], {}, 'deny', 0],
    ['kind glob', [{ kind: 'py*', action: 'ask' }], {}, 'ask', 0],
    ['when: string glob on an argument', [{ tool: '*', when: { item: 'burg*' }, action: 'deny' }], {}, 'deny', 0],
    ['when: exact number', [{ tool: '*', when: { count: 2 }, action: 'deny' }], {}, 'allow', undefined],
    ['when: list of alternatives', [{ tool: '*', when: { count: [1, 2] }, action: 'deny' }], {}, 'deny', 0],
    ['when: every condition must hold', [{ tool: '*', when: { item: 'burger', count: 5 }, action: 'deny' }], {}, 'allow', undefined],
    ['when without arguments (tools/list) does not match', [{ tool: '*', when: { item: '*' }, action: 'deny' }], { args: undefined }, 'allow', undefined],
    ['when on a missing argument does not match a glob', [{ tool: '*', when: { size: '*' }, action: 'deny' }], {}, 'allow', undefined],
  ])('%s', (_title, rules, call, action, ruleIndex) => {
    const decision = decide(policy(rules), { ...base, ...call });
    expect(decision.action).toBe(action);
    expect(decision.ruleIndex).toBe(ruleIndex);
  });

  it('configurable defaults', () => {
    expect(decide(policy([], { default: 'ask' }), base).action).toBe('ask');
    expect(decide(policy([], { unknownSideEffects: 'allow' }), { ...base, sideEffects: 'unknown' })).toMatchObject({
      action: 'allow',
      because: 'policy.unknownSideEffects: allow (the tool does not say whether it changes anything)',
    });
    expect(decide(policy([], { sideEffects: 'deny' }), { ...base, sideEffects: 'some' })).toMatchObject({
      action: 'deny',
      because: 'policy.sideEffects: deny (the tool has side effects)',
    });
  });

  it('says which rule decided, as the config spells it, with its reason', () => {
    const decision = decide(policy([{ tool: '*__order', principal: '*', action: 'deny', reason: 'orders are closed today' }]), base);
    expect(decision.because).toBe('policy.rules[0] (tool: "*__order", principal: "*", action: deny)');
    expect(decision.reason).toBe('orders are closed today');
  });

  it('makes each decision once, shared by every call, and nobody it is given to can change it', () => {
    const compiled = policy([{ tool: '*__order', action: 'ask', channels: ['inbox'] }]);
    for (const call of [base, { ...base, tool: 'shop__list' }, { ...base, tool: 'shop__list', sideEffects: 'some' as const }]) {
      const decision = decide(compiled, call);
      expect(decide(compiled, call)).toBe(decision);
      expect(() => {
        (decision as { action: string }).action = 'allow';
      }).toThrow(TypeError);
      expect(decide(compiled, call).action).toBe(decision.action);
    }
    // Nor the approvers a rule names.
    expect(() => (decide(compiled, base).channels as string[]).push('elicitation')).toThrow(TypeError);
    expect(decide(compiled, base).channels).toEqual(['inbox']);
  });
});
