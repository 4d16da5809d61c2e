// The build compiles the Carter manifest schema into standalone code (scripts/build-validators.mjs)
// so start-up does not pay for ajv's code generation. That code must judge manifests exactly as
// the schema compiled at run time does: same verdicts, same errors, same messages.
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { checkManifest as checkFromSources, compileManifestValidator } from '../../../src/adapters/http/manifest.js';

const require = createRequire(import.meta.url);
const precompiled = (require('../../../dist/adapters/http/manifest-validate.cjs') as { default: ValidateFunction }).default;
const distManifest = (await import('../../../dist/adapters/http/manifest.js')) as { checkManifest: typeof checkFromSources };
const compiled = compileManifestValidator().validate;

function base(): Record<string, unknown> {
  return {
    manifest_version: '1',
    developer_id: 'dev-7',
    version: '1.0.0',
    name: 'kettle',
    name_for_human: 'Kettle',
    name_for_machine: 'kettle',
    description_for_human: 'Boils water.',
    description_for_machine: 'Boils water on request.',
    author_name: 'Tests',
    contact_email: 'kettle@example.com',
    api: {
      base_url: 'https://kettle.example.com/',
      endpoints: [{ name: 'boil', description: 'Boil.', path: '/boil', input: [{ name: 'litres', type: 'number', required: true, description: 'How much.' }], output: [] }],
    },
  };
}

const endpoints = (count: number): unknown[] => Array.from({ length: count }, (_, index) => ({ name: `e${index}`, description: 'x', path: `/${index}`, input: [], output: [] }));
const cases: Record<string, unknown> = {
  valid: base(),
  'not an object': [1, 2],
  'missing keys': { manifest_version: '1' },
  'wrong version and types': { ...base(), manifest_version: 2, version: 3, name_for_human: '' },
  'bad email': { ...base(), contact_email: 'kettle at example' },
  'too many endpoints': { ...base(), api: { base_url: 'https://k.example.com/', endpoints: endpoints(16) } },
  'bad input type': { ...base(), api: { base_url: 'https://k.example.com/', endpoints: [{ name: 'a', description: 'x', path: '/a', input: [{ name: 'n', type: 'date', required: 'yes', description: 1 }], output: [] }] } },
  'unknown keys': { ...base(), colour: 'blue' },
};

const expectedOf = (schema: unknown): unknown => (typeof schema === 'object' && schema !== null ? (schema as Record<string, unknown>)['x-expected'] : undefined);
const comparable = (errors: readonly ErrorObject[] | null | undefined): unknown[] =>
  (errors ?? []).map(({ instancePath, schemaPath, keyword, params, message, parentSchema }) => ({ instancePath, schemaPath, keyword, params, message, expected: expectedOf(parentSchema) }));

describe('the precompiled Carter manifest validator', () => {
  it.each(Object.entries(cases))('agrees with the schema compiled at run time: %s', (_name, manifest) => {
    const verdict = compiled(manifest);
    expect(precompiled(manifest)).toBe(verdict);
    expect(comparable(precompiled.errors)).toEqual(comparable(compiled.errors));
  });

  it('the cases include refusals', () => {
    const refused = Object.values(cases).filter((manifest) => !compiled(manifest));
    expect(refused.length).toBe(Object.keys(cases).length - 2);
  });

  it('the built adapter (which loads it) words its refusals as the sources do', () => {
    for (const manifest of Object.values(cases)) {
      const fromDist = (() => {
        try {
          return distManifest.checkManifest(manifest);
        } catch (error) {
          return String(error);
        }
      })();
      const fromSources = (() => {
        try {
          return checkFromSources(manifest);
        } catch (error) {
          return String(error);
        }
      })();
      expect(JSON.stringify(fromDist)).toBe(JSON.stringify(fromSources));
    }
  });
});
