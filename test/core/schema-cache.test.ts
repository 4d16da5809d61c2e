// Validators compiled from tool schemas are kept in the cache folder as ajv's standalone code,
// so a restart runs them without compiling (or loading ajv). What runs from the cache must judge
// arguments exactly as a fresh compile does; a schema ajv refuses is refused again; a damaged
// cache file is compiled again and replaced.
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSchemaCompiler, formatSchemaErrors } from '../../src/core/schema.js';
import { useTempDir } from '../helpers/temp-dir.js';

const cacheDir = useTempDir('toolport-validators-', 'all');

const schemas: Record<string, { schema: object; inputs: unknown[] }> = {
  formats: {
    schema: { type: 'object', properties: { when: { type: 'string', format: 'date-time' }, mail: { type: 'string', format: 'email' }, site: { type: 'string', format: 'uri' } } },
    inputs: [{ when: '2026-12-04T10:00:00Z', mail: 'a@example.com', site: 'https://example.com' }, { when: 'tomorrow', mail: 'nobody', site: 'not a uri' }],
  },
  limits: {
    schema: { type: 'object', properties: { days: { type: 'integer', minimum: 1, maximum: 7 }, tag: { type: 'string', pattern: '^[a-z]+$', maxLength: 4 } }, required: ['days'], additionalProperties: false },
    inputs: [{ days: 3, tag: 'ab' }, { days: 9, tag: 'ABCDEF', extra: true }, {}],
  },
  refs: {
    schema: { $defs: { pair: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 } }, type: 'object', properties: { at: { $ref: '#/$defs/pair' }, kind: { enum: ['a', 'b'] } } },
    inputs: [{ at: [1, 2], kind: 'a' }, { at: [1], kind: 'c' }],
  },
  draft07: {
    schema: { $schema: 'http://json-schema.org/draft-07/schema#', definitions: { word: { type: 'string', minLength: 2 } }, type: 'object', properties: { list: { type: 'array', items: { $ref: '#/definitions/word' } } } },
    inputs: [{ list: ['xy'] }, { list: ['xy', 'z', 2] }],
  },
};

const verdicts = (compile: (schema: object) => (input: unknown) => unknown, name: string): unknown[] => {
  const { schema, inputs } = schemas[name] as { schema: object; inputs: unknown[] };
  // A copy: the compiler remembers schema objects it has seen, and the cache is keyed by content.
  const validate = compile(structuredClone(schema)) as ((input: unknown) => boolean) & { errors?: Parameters<typeof formatSchemaErrors>[0] };
  return inputs.map((input) => [validate(input), validate(input) ? '' : formatSchemaErrors(validate.errors)]);
};

describe('the validator cache', () => {
  it('a fresh compiler runs the cached code, which judges as a compile does', async () => {
    const plain = createSchemaCompiler();
    const first = createSchemaCompiler({ cacheDir: cacheDir.path });
    for (const name of Object.keys(schemas)) verdicts((schema) => first.compile(schema), name);
    const files = await readdir(join(cacheDir.path, 'validators'));
    expect(files.filter((file) => file.endsWith('.cjs'))).toHaveLength(Object.keys(schemas).length);
    expect((await stat(join(cacheDir.path, 'validators'))).mode & 0o777).toBe(0o700);

    const second = createSchemaCompiler({ cacheDir: cacheDir.path });
    for (const name of Object.keys(schemas)) {
      expect(verdicts((schema) => second.compile(schema), name)).toEqual(verdicts((schema) => plain.compile(schema), name));
    }
    // Some inputs are refused, with the messages a model reads.
    expect(JSON.stringify(verdicts((schema) => second.compile(schema), 'limits'))).toMatch(/\/days: must be <= 7/);
  });

  it('the code that runs is the cached file (a changed file changes the verdict)', async () => {
    const schema = { type: 'object', properties: { n: { type: 'number' } } };
    createSchemaCompiler({ cacheDir: cacheDir.path }).compile(structuredClone(schema));
    const before = new Set(await readdir(join(cacheDir.path, 'validators')));
    const again = createSchemaCompiler({ cacheDir: cacheDir.path });
    expect(again.compile(structuredClone(schema))({ n: 'text' })).toBe(false);
    const file = [...before].find((name) => name.endsWith('.cjs') && !name.includes('tmp'));
    expect(file).toBeDefined();
    // Rewrite every cached file to accept anything: the next compiler must obey the files.
    for (const name of before) {
      await writeFile(join(cacheDir.path, 'validators', name), 'module.exports = function validate() { validate.errors = null; return true; }; module.exports.default = module.exports;');
    }
    expect(createSchemaCompiler({ cacheDir: cacheDir.path }).compile(structuredClone(schema))({ n: 'text' })).toBe(true);
    await rm(join(cacheDir.path, 'validators'), { recursive: true });
  });

  it('a damaged cache file is compiled again and replaced', async () => {
    const schema = { type: 'object', properties: { s: { type: 'string' } } };
    createSchemaCompiler({ cacheDir: cacheDir.path }).compile(structuredClone(schema));
    const [name] = (await readdir(join(cacheDir.path, 'validators'))).filter((file) => file.endsWith('.cjs'));
    const file = join(cacheDir.path, 'validators', name as string);
    await writeFile(file, 'this is not javascript {');
    expect(createSchemaCompiler({ cacheDir: cacheDir.path }).compile(structuredClone(schema))({ s: 1 })).toBe(false);
    expect(await readFile(file, 'utf8')).toMatch(/validate/);
  });

  it('a schema ajv refuses is refused every time, and not cached', async () => {
    const broken = { type: 'object', properties: { n: { type: 'nonsense' } } };
    const folder = join(cacheDir.path, 'validators');
    const before = await readdir(folder).catch(() => []);
    expect(() => createSchemaCompiler({ cacheDir: cacheDir.path }).compile(structuredClone(broken))).toThrow(/nonsense|type/);
    expect(() => createSchemaCompiler({ cacheDir: cacheDir.path }).compile(structuredClone(broken))).toThrow(/nonsense|type/);
    expect(await readdir(folder).catch(() => [])).toEqual(before);
  });
});
