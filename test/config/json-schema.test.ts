// The config's JSON Schema: generated from the zod schema, shipped in the build and
// printed by `toolport schema` (the same bytes); every example config in the repository
// validates against it, and the typos the zod schema refuses, it refuses too.
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { toConfigJsonSchema } from '../../src/config/json-schema.js';
import { validateConfigSchema } from '../helpers/config-schema.js';
import { binPath, repoRoot } from '../helpers/toolport-process.js';

const exec = promisify(execFile);
const schema = toConfigJsonSchema();
const validate = validateConfigSchema;

/** Every config file the repository ships as an example or template. */
async function exampleConfigs(): Promise<string[]> {
  const templates = await readdir(join(repoRoot, 'templates', 'init'));
  return [
    join(repoRoot, 'config', 'toolport.example.yaml'),
    join(repoRoot, 'examples', 'http', 'toolport.yaml'),
    ...templates.map((kind) => join(repoRoot, 'templates', 'init', kind, 'toolport.yaml')),
  ];
}

describe('the config JSON Schema', () => {
  it('toolport schema prints the file the build ships, generated from the zod schema', async () => {
    const { stdout } = await exec(process.execPath, [binPath, 'schema']);
    const shipped = await readFile(join(repoRoot, 'dist', 'config', 'toolport.schema.json'), 'utf8');
    expect(stdout).toBe(shipped);
    expect(JSON.parse(stdout)).toEqual(schema);
    expect(schema).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#', title: 'toolport config', additionalProperties: false });
  });

  it('every example and template config validates', async () => {
    const configs = await exampleConfigs();
    expect(configs.length).toBeGreaterThanOrEqual(7);
    for (const file of configs) {
      const valid = validate(parse(await readFile(file, 'utf8')) ?? {});
      expect({ file, errors: validate.errors ?? [] }).toEqual({ file, errors: [] });
      expect(valid).toBe(true);
    }
  });

  it('refuses what the zod schema refuses: unknown keys, at the top and in plugin blocks', () => {
    const cases: [unknown, boolean][] = [
      [{ plugins: [{ path: './a.mjs', timeoutSeconds: 10 }] }, true],
      [{ plugins: [{ path: './a.mjs', timeoutSecond: 10 }] }, false],
      [{ plugins: [{ path: './w.json', secretToken: '${SECRET}', timeouts: { connectSeconds: 5 } }] }, true],
      [{ plugins: [{ path: './w.wasm', kind: 'wasm', memoryLimitMb: 64 }] }, true],
      [{ plugins: [{ path: './w.wasm', kind: 'wasm', secretToken: 'x' }] }, false],
      [{ plugins: [{ path: './x', kind: 'lisp' }] }, false],
      [{ servr: { name: 'x' } }, false],
      [{ naming: { prefix: 'sometimes' } }, false],
    ];
    for (const [config, expected] of cases) expect({ config, valid: validate(config) }).toEqual({ config, valid: expected });
  });
});
