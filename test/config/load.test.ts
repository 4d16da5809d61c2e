// Config loading: interpolation, validation messages that name file and path, and the
// keys of features that have not landed yet being refused rather than ignored.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interpolateEnv, loadConfigFile, parseConfig } from '../../src/config/load.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toolport-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('config', () => {
  it('fills in ${VAR} and ${VAR:-default}', () => {
    const problems: string[] = [];
    const out = interpolateEnv({ a: '${A}', b: ['x-${B:-two}-y'], c: 3 }, { A: 'one' }, [], problems);
    expect(out).toEqual({ a: 'one', b: ['x-two-y'], c: 3 });
    expect(problems).toEqual([]);
  });

  it('names an unset variable and where it is used', () => {
    expect(() => parseConfig({ server: { http: { auth: { tokens: ['${NOPE_TOKEN}'] } } } }, { env: {} })).toThrow(
      /server\.http\.auth\.tokens\[0\]: environment variable NOPE_TOKEN is not set/,
    );
  });

  it('reads YAML, applies defaults and resolves plugin paths against the file', async () => {
    const file = await configFile('ok.yaml', 'server:\n  name: mine\nplugins:\n  - path: ./plugins/a.mjs\n    timeoutSeconds: 5\n');
    const { config } = await loadConfigFile(file, {});
    expect(config.server).toMatchObject({ name: 'mine', http: { host: '127.0.0.1', port: 8808 } });
    expect(config.naming).toEqual({ prefix: 'always', maxLength: 64 });
    expect(config.defaults.timeoutSeconds).toBe(30);
    expect(config.plugins[0]).toMatchObject({ path: join(dir, 'plugins/a.mjs'), timeoutSeconds: 5 });
  });

  it('reports every problem with the file and its path', async () => {
    const file = await configFile('bad.yaml', 'naming:\n  prefix: sometimes\nplugins:\n  - path: ""\n  - {}\nservr: {}\n');
    const error = await loadConfigFile(file, {}).then(() => undefined, (reason: Error) => reason);
    expect(error?.message).toContain(`invalid config ${file}`);
    expect(error?.message).toMatch(/naming\.prefix: .*"always"\|"conditional"\|"never"/);
    expect(error?.message).toMatch(/plugins\[0\]\.path: must be a file, folder or URL/);
    expect(error?.message).toMatch(/plugins\[1\]\.path: /);
    expect(error?.message).toMatch(/\(top level\): unknown key "servr"/);
  });

  it('refuses keys of features that are not built yet instead of ignoring them', () => {
    expect(() => parseConfig({ hooks: ['./audit.js'] }, { env: {} })).toThrow(/hooks: hooks is not supported by this version of toolport yet/);
  });

  it('says when the file is missing or not YAML', async () => {
    await expect(loadConfigFile(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read config .*missing\.yaml: file not found/);
    const broken = await configFile('broken.yaml', 'plugins: [\n');
    await expect(loadConfigFile(broken)).rejects.toThrow(/cannot parse config .*broken\.yaml/);
  });
});
