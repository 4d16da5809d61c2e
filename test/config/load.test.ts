// Config loading: interpolation, validation messages that name file and path, and the
// keys of features that have not landed yet being refused rather than ignored.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpolateEnv, loadConfigFile, parseConfig } from '../../src/config/load.js';
import type { Issue } from '../../src/core/format.js';
import { useTempDir } from '../helpers/temp-dir.js';

const dir = useTempDir('toolport-config-', 'all');

async function configFile(name: string, text: string): Promise<string> {
  const path = join(dir.path, name);
  await writeFile(path, text);
  return path;
}

describe('config', () => {
  it('fills in ${VAR} and ${VAR:-default}', () => {
    const problems: Issue[] = [];
    const out = interpolateEnv({ a: '${A}', b: ['x-${B:-two}-y'], c: 3 }, { A: 'one' }, [], problems);
    expect(out).toEqual({ a: 'one', b: ['x-two-y'], c: 3 });
    expect(problems).toEqual([]);
  });

  it('names an unset variable and where it is used', () => {
    expect(() => parseConfig({ server: { http: { auth: { tokens: ['${NOPE_TOKEN}'] } } } }, { env: {} })).toThrow(
      /server\.http\.auth\.tokens\[0\]: environment variable NOPE_TOKEN is not set/,
    );
  });

  it('checks the state block after ${VAR}s are filled in, saying what was expected', () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:6379', HOST: 'web-1', KEY: 'k'.repeat(40) };
    const config = parseConfig({ state: { redis: { url: '${REDIS_URL}' }, replica: '${HOST}', keys: { requestState: '${KEY}' } } }, { env });
    expect(config.state).toEqual({ redis: { url: 'redis://127.0.0.1:6379', prefix: 'toolport:' }, replica: 'web-1', keys: { requestState: 'k'.repeat(40) } });
    expect(parseConfig({}).state).toEqual({ keys: {} });
    expect(() => parseConfig({ state: { redis: { url: 'http://127.0.0.1:6379' } } })).toThrow(/state\.redis\.url: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => parseConfig({ state: { replica: 'web 1' } })).toThrow(/state\.replica: must be 1-64 letters, digits, _ or -/);
    expect(() => parseConfig({ state: { keys: { relationship: 'short' } } })).toThrow(/state\.keys\.relationship: must be at least 32 characters/);
    expect(() => parseConfig({ state: { redis: { url: 'redis://x', prefx: 'a' } } })).toThrow(/state\.redis: unknown key "prefx" \(did you mean "prefix"\?\)/);
  });

  it('reads YAML, applies defaults and resolves plugin paths against the file', async () => {
    const file = await configFile('ok.yaml', 'server:\n  name: mine\nplugins:\n  - path: ./plugins/a.mjs\n    timeoutSeconds: 5\n');
    const { config } = await loadConfigFile(file, {});
    expect(config.server).toMatchObject({ name: 'mine', http: { host: '127.0.0.1', port: 8808 } });
    expect(config.naming).toEqual({ prefix: 'always', maxLength: 64 });
    expect(config.defaults.timeoutSeconds).toBe(30);
    expect(config.plugins[0]).toMatchObject({ path: join(dir.path, 'plugins/a.mjs'), timeoutSeconds: 5 });
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

  it('resolves hook module paths like plugin paths: relative to the config file', async () => {
    const file = await configFile('hooks.yaml', 'hooks:\n  - ./hooks/audit.js\n  - { path: /abs/guard.mjs, timeoutSeconds: 2 }\n');
    const { config } = await loadConfigFile(file, {});
    expect(config.hooks).toEqual([
      { path: join(dir.path, 'hooks/audit.js'), settings: {} },
      { path: '/abs/guard.mjs', timeoutSeconds: 2, settings: {} },
    ]);
  });

  it('reports problems in limits, hooks, events and oauth with the key and what was expected', async () => {
    const file = await configFile(
      'new-keys.yaml',
      [
        'server:',
        '  http:',
        '    auth:',
        '      oauth: { issuer: "https://id.example", jwksUrl: "http://id.example/jwks", scopes: [] }',
        'limits:',
        '  - { tool: "weather__*", perMinute: 0 }',
        'hooks: [{ file: ./audit.js }]',
        'events: { mqtt: { url: "http://broker:1883", topic: "toolport/#" } }',
      ].join('\n'),
    );
    const error = await loadConfigFile(file, {}).then(() => undefined, (reason: Error) => reason);
    const message = error?.message ?? '';
    expect(message).toContain(`invalid config ${file}`);
    expect(message).toMatch(/server\.http\.auth\.oauth\.audience: /);
    expect(message).toMatch(/server\.http\.auth\.oauth\.jwksUrl: must be an https:\/\/ URL \(http:\/\/ only on a loopback host\)/);
    expect(message).toMatch(/server\.http\.auth\.oauth: unknown key "scopes"/);
    expect(message).toMatch(/limits\[0\]\.perMinute: Too small/);
    expect(message).toMatch(/hooks\[0\]: must be the path of a hook module, or \{ path/);
    expect(message).toMatch(/events\.mqtt\.url: must be an mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\/ URL/);
    expect(message).toMatch(/events\.mqtt\.topic: must not contain the wildcards # or \+/);
  });

  it('accepts the documented forms of the new keys', () => {
    const config = parseConfig(
      {
        server: { http: { auth: { oauth: { issuer: 'https://id.example', audience: 'toolport', jwksUrl: 'http://127.0.0.1:9/jwks' } } } },
        limits: [{ tool: 'weather__*', perMinute: 60 }, { plugin: 'shop', concurrency: 2 }],
        hooks: ['/abs/audit.js'],
        events: { mqtt: { url: 'mqtt://127.0.0.1:1883' } },
      },
      { env: {} },
    );
    expect(config.server.http.auth.oauth).toMatchObject({ audience: 'toolport', requiredScopes: [], algorithms: expect.arrayContaining(['RS256', 'ES256']) as string[] });
    expect(config.events.mqtt).toEqual({ url: 'mqtt://127.0.0.1:1883', qos: 0, includeArguments: false, includeResults: false });
    expect(config.limits).toHaveLength(2);
  });

  it('reads the session keys of server.http: defaults, and a per-principal cap above the total is refused', () => {
    expect(parseConfig({}, { env: {} }).server.http).toMatchObject({ maxSessions: 1000, sessionIdleSeconds: 3600 });
    expect(parseConfig({}, { env: {} }).server.http.maxSessionsPerPrincipal).toBeUndefined();
    const set = parseConfig({ server: { http: { maxSessions: 50, maxSessionsPerPrincipal: 5, sessionIdleSeconds: 60 } } }, { env: {} });
    expect(set.server.http).toMatchObject({ maxSessions: 50, maxSessionsPerPrincipal: 5, sessionIdleSeconds: 60 });
    expect(() => parseConfig({ server: { http: { maxSessions: 10, maxSessionsPerPrincipal: 11 } } }, { env: {} })).toThrow(
      /server\.http\.maxSessionsPerPrincipal: must not be more than server\.http\.maxSessions/,
    );
    expect(() => parseConfig({ server: { http: { sessionIdleSeconds: 0 } } }, { env: {} })).toThrow(/server\.http\.sessionIdleSeconds/);
  });

  it('says when the file is missing, or where it is not YAML or JSON', async () => {
    await expect(loadConfigFile(join(dir.path, 'missing.yaml'))).rejects.toThrow(/cannot read config .*missing\.yaml: file not found/);
    const broken = await configFile('broken.yaml', 'plugins:\n  - path: x\n - foo\n');
    const yamlError = await loadConfigFile(broken).then(() => undefined, (reason: Error) => reason.message);
    expect(yamlError).toContain(`cannot parse config ${broken}:\n  ${broken}:3:1: A block sequence may not be used as an implicit map key\n`);
    expect(yamlError).not.toMatch(/column \d+:\s*$/m);
    const flow = await configFile('flow.yaml', 'server:\n  http:\n    auth:\n      tokens:\n        - { token: ${CI_TOKEN}, principal: ci }\n');
    const flowError = await loadConfigFile(flow, { CI_TOKEN: 'x' }).then(() => undefined, (reason: Error) => reason.message);
    expect(flowError).toMatch(new RegExp(`^cannot parse config ${flow}:\\n  ${flow}:5:\\d+: `));
    expect(flowError).toContain('hint: inside { }, quote ${VAR} values: "${VAR}"');
    const json = await configFile('broken.json', '{\n  "plugins": [\n    { "path": "./a.mjs" },\n  ]\n}\n');
    await expect(loadConfigFile(json)).rejects.toThrow(`cannot parse config ${json}:\n  ${json}:4:3: Unexpected token ']'`);
  });

  it('checks every plugin block against its kind: unknown keys with what they were meant to be, and where', async () => {
    const file = await configFile(
      'plugins.yaml',
      [
        'plugins:',
        '  - path: ./a.mjs',
        '    timeoutSecond: 10',
        '  - { path: ./b.py, timeout_seconds: 3 }',
        '  - path: ./c.wasm',
        '    kind: wasm',
        '    memoryLimit: 5',
        '  - path: ./d.json',
        '    kind: carter',
        '  - path: ./e',
        '    secretToken: abc',
        '    wit: ./e.wit',
        '  - path: ./f.mjs',
        '    kind: module',
        '    secretToken: abc',
        '  - path: ./g.mjs',
        '    timeoutSeconds: 0',
      ].join('\n'),
    );
    const error = await loadConfigFile(file, {}).then(() => undefined, (reason: Error) => reason.message);
    expect(error?.split('\n')).toEqual([
      `invalid config ${file}:`,
      `  ${file}:3:5: plugins[0]: unknown key "timeoutSecond" (did you mean "timeoutSeconds"?)`,
      `  ${file}:4:21: plugins[1]: unknown key "timeout_seconds" (did you mean "timeoutSeconds"?)`,
      `  ${file}:7:5: plugins[2]: unknown key "memoryLimit" (did you mean "memoryLimitMb"?)`,
      `  ${file}:9:11: plugins[3].kind: must be one of "wasm", "python", "command", "http", "module" (or left out: the kind is detected from the path)`,
      `  ${file}:10:5: plugins[4]: keys of different plugin kinds: "secretToken" (http), "wit" (wasm)`,
      `  ${file}:15:5: plugins[5]: "secretToken" is a key of http plugins, and this is a module plugin`,
      `  ${file}:17:21: plugins[6].timeoutSeconds: Too small: expected number to be >0`,
    ]);
  });

  it('a block without kind may hold the keys of any one kind; they are checked once the kind is detected', () => {
    const config = parseConfig({ plugins: [{ path: '/x/weather.json', secretToken: 'abc', timeouts: { connectSeconds: 5 } }] }, { env: {} });
    expect(config.plugins[0]).toEqual({ path: '/x/weather.json', secretToken: 'abc', timeouts: { connectSeconds: 5 } });
  });

  it('says "did you mean" for a misspelt key anywhere in the config', () => {
    expect(() => parseConfig({ naming: { prefx: 'never' }, defaults: { timeout: 3 } }, { env: {} })).toThrow(
      /naming: unknown key "prefx" \(did you mean "prefix"\?\)\n\s+defaults: unknown key "timeout" \(did you mean "timeoutSeconds"\?\)/,
    );
  });
});
