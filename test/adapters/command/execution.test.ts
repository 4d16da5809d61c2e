// Running command tools for real: argv substitution exactly as EvoClaw (and never a shell),
// the environment allowlist, SKILL_ARG_*, cwd, `~`, result shaping, start failures,
// per-tool time limits and the concurrency cap.
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCode, isToolportError } from '../../../src/core/errors.js';
import { callTool } from '../../helpers/call-tool.js';
import { createToolport, type Toolport } from '../../../src/toolport.js';
import { makeScratch, sandboxForTests, sandboxWorks, textOf, writeSkill } from './helpers.js';

/** Prints the argument count, then every argument, NUL-separated: nothing can hide in the output. */
const argvScript = '#!/bin/sh\nprintf "%s\\0" "$#" "$@"\n';

function parseArgv(text: string): string[] {
  const parts = text.split('\0');
  expect(parts.pop()).toBe('');
  const [count, ...args] = parts;
  expect(Number(count)).toBe(args.length);
  return args;
}

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

let root: string;
let toolport: Toolport;
let skill: string;
const saved = { ...process.env };

async function settle(name: string, args: Record<string, unknown>, signal?: AbortSignal) {
  return callTool(toolport, name, args, signal ? { signal } : {});
}

beforeAll(async () => {
  root = await makeScratch('exec');
  const home = join(root, 'home');
  await mkdir(join(home, 'bin'), { recursive: true });
  await writeFile(join(home, 'bin', 'hello.sh'), '#!/bin/sh\necho "hello from home $HOME"\n', { mode: 0o755 });
  process.env.HOME = home;
  process.env.TOOLPORT_TEST_SECRET = 's3cr3t-do-not-leak';
  process.env.TOOLPORT_TEST_API_KEY = 'key-123';
  process.env.TOOLPORT_TEST_DECLARED = 'declared-value';
  process.env.TOOLPORT_TEST_GRANTED = 'granted-value';
  process.env.LANG = 'C.UTF-8';
  process.env.TZ = 'Europe/Berlin';
  skill = await writeSkill(root, 'exec', {
    skillMd: '---\nname: exec\nmetadata:\n  evoclaw:\n    env: [TOOLPORT_TEST_DECLARED]\n---\n',
    agentToml: `
[tools.argv]
command = "scripts/argv.sh"
args = ["fixed", "$Name", "$name", "--flag=$name", "$opt", "$Name"]

[tools.typed]
command = "scripts/argv.sh"
args = ["$count", "$verbose", "$filter", "$unit"]

[tools.env]
command = "scripts/env.sh"
args = ["$symbol"]
env = ["API_KEY=\${TOOLPORT_TEST_API_KEY}", "GREETING=hi $TOOLPORT_TEST_API_KEY!", "UNSET=\${TOOLPORT_TEST_UNSET_XYZ}", "PATH=/custom/bin:\${PATH}", "LEAKED=\${TOOLPORT_TEST_SECRET}", "FROM_ARG=pair \${SKILL_ARG_SYMBOL}"]

[tools.cwd]
command = "pwd"

[tools.home]
command = "~/bin/hello.sh"

[tools.exit]
command = "scripts/exit.sh"
args = ["$code"]

[tools.signal]
command = "scripts/signal.sh"

[tools.json]
command = "scripts/json.sh"
args = ["$pair"]

[tools.array]
command = "scripts/array.sh"

[tools.noisy]
command = "scripts/noisy.sh"

[tools.vanishing]
command = "scripts/vanishing.sh"

[tools.locked]
command = "scripts/locked.sh"

[tools.slow]
command = "scripts/slow.sh"
args = ["$seconds"]
timeout_secs = 3

[tools.stdin]
command = "cat"

[tools.crowd]
command = "scripts/crowd.sh"
args = ["$id"]
`,
    skillToml: `
[[tools]]
name = "argv"
[tools.parameters]
required = ["Name", "name"]

[[tools]]
name = "typed"
[tools.parameters.properties.count]
type = "integer"
[tools.parameters.properties.verbose]
type = "boolean"
[tools.parameters.properties.filter]
type = "object"
[tools.parameters.properties.unit]
type = "string"
default = "km"

[[tools]]
name = "env"
[tools.parameters]
required = ["symbol"]
[tools.parameters.properties.amount]
type = "number"
`,
    files: {
      'scripts/argv.sh': argvScript,
      'scripts/env.sh': '#!/bin/sh\nexec env\n',
      'scripts/exit.sh': '#!/bin/sh\nprintf "partial output\\n"\nprintf "boom: it broke\\n" >&2\nexit "$1"\n',
      'scripts/signal.sh': '#!/bin/sh\necho "about to die" >&2\nkill -TERM $$\n',
      'scripts/json.sh': '#!/bin/sh\nprintf \'{"pair": "%s", "price": 42.5}\\n\' "$1"\n',
      'scripts/array.sh': '#!/bin/sh\necho "[1, 2, 3]"\n',
      'scripts/noisy.sh': '#!/bin/sh\necho FIRST-LINE >&2\nhead -c 100000 /dev/zero | tr "\\0" "x" >&2\necho >&2\necho LAST-LINE >&2\nexit 1\n',
      'scripts/vanishing.sh': argvScript,
      'scripts/locked.sh': argvScript,
      'scripts/slow.sh': '#!/bin/sh\nsleep "$1"\necho "slept $1"\n',
      'scripts/crowd.sh':
        '#!/bin/sh\nmkdir -p running\ntouch "running/$1"\nls running | wc -l > "seen-$1"\nsleep 0.5\nrm "running/$1"\ncat "seen-$1"\n',
    },
  });
  toolport = await createToolport(
    parseConfig({
      defaults: { timeoutSeconds: 1 },
      plugins: [
        {
          path: skill,
          concurrency: 2,
          readOnly: ['*'],
          ...sandboxForTests,
          // The crowd tool keeps its bookkeeping in the skill folder, which is otherwise read-only.
          grants: { env: ['TOOLPORT_TEST_GRANTED', 'TOOLPORT_TEST_DECLARED', 'TOOLPORT_TEST_API_KEY'], files: { [skill]: 'rw' } },
        },
      ],
    }),
  );
  expect(toolport.diagnostics.filter((d) => d.level === 'error')).toEqual([]);
  // The ungranted names env entries use are pointed out, with the config line that grants them.
  expect(toolport.diagnostics.filter((d) => d.message.includes('is not granted')).map((d) => d.message)).toEqual(
    [
      ['env[2]', 'TOOLPORT_TEST_UNSET_XYZ'],
      ['env[4]', 'TOOLPORT_TEST_SECRET'],
    ].map(([at, name]) => `plugins[0] ${skill}: agent.toml: tools.env.${at}: ${name} is not granted, so it expands to empty; to pass it, set plugins[0].grants.env: [${name}]`),
  );
});

afterAll(async () => {
  await toolport?.close();
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
  await rm(root, { recursive: true, force: true });
});

describe('command skills: argv', () => {
  it('replaces whole-argument placeholders case-sensitively; other text is literal', async () => {
    const result = await settle('exec__argv', { Name: 'Upper', name: 'lower', opt: 'o' });
    expect(result.isError).toBeUndefined();
    expect(parseArgv(textOf(result))).toEqual(['fixed', 'Upper', 'lower', '--flag=$name', 'o', 'Upper']);
  });

  it('passes an empty argument for a missing optional value', async () => {
    const result = await settle('exec__argv', { Name: 'A', name: 'b' });
    expect(parseArgv(textOf(result))).toEqual(['fixed', 'A', 'b', '--flag=$name', '', 'A']);
  });

  it('passes spaces, quotes, shell syntax and newlines literally; nothing is run by a shell', async () => {
    const pwned = join(root, 'pwned');
    const nasty = [
      'two words',
      `it's "quoted"`,
      '$(rm -rf /)',
      `$(touch ${pwned})`,
      `; touch ${pwned}`,
      `\`touch ${pwned}\``,
      `a && touch ${pwned} | cat > ${pwned}`,
      'line one\nline two\r\n',
      '*',
      '-rf',
      '$HOME',
      '',
      'ünïcødé 🌍',
    ];
    for (const value of nasty) {
      const result = await settle('exec__argv', { Name: value, name: value, opt: value });
      expect(result.isError, JSON.stringify(value)).toBeUndefined();
      expect(parseArgv(textOf(result)), JSON.stringify(value)).toEqual(['fixed', value, value, '--flag=$name', value, value]);
    }
    await expect(stat(pwned)).rejects.toThrow(/ENOENT/);
  });

  it('turns typed values into text: numbers, booleans, JSON for objects; defaults fill gaps', async () => {
    const result = await settle('exec__typed', { count: 42, verbose: false, filter: { min: 1, tags: ['a'] } });
    expect(parseArgv(textOf(result))).toEqual(['42', 'false', '{"min":1,"tags":["a"]}', 'km']);
  });

  it('refuses arguments the schema does not know, and NUL characters a program cannot receive', async () => {
    const extra = await settle('exec__argv', { Name: 'a', name: 'b', other: 'x' });
    expect(extra.isError).toBe(true);
    expect(textOf(extra)).toContain('unexpected property "other"');
    const error = await toolport.call('exec__argv', { Name: 'a\0b', name: 'b' }).catch((reason: unknown) => reason);
    expect(isToolportError(error) && error.code).toBe(ErrorCode.ArgumentsInvalid);
    expect(isToolportError(error) && error.shortMessage).toMatch(/Name contains a NUL character/);
  });
});

describe('command skills: environment', () => {
  it('gives the allowlist, granted variables, env entries expanded from those and SKILL_ARG_*; never the rest', async () => {
    const result = await settle('exec__env', { symbol: 'BTC-USD', amount: 2.5 });
    expect(result.isError).toBeUndefined();
    const env = parseEnv(textOf(result));
    expect(textOf(result)).not.toContain('s3cr3t-do-not-leak');
    expect(env.TOOLPORT_TEST_SECRET).toBeUndefined();
    expect(env).toMatchObject({
      HOME: process.env.HOME,
      LANG: 'C.UTF-8',
      TZ: 'Europe/Berlin',
      API_KEY: 'key-123',
      GREETING: 'hi key-123!',
      UNSET: '',
      PATH: `/custom/bin:${process.env.PATH}`,
      LEAKED: '', // an entry naming an ungranted variable expands to empty
      FROM_ARG: 'pair BTC-USD',
      TOOLPORT_TEST_DECLARED: 'declared-value', // declared in SKILL.md, granted in the config
      TOOLPORT_TEST_GRANTED: 'granted-value', // granted in the config only
      SKILL_ARG_SYMBOL: 'BTC-USD',
      SKILL_ARG_AMOUNT: '2.5',
    });
    // Only what was named: the allowlist, the named variables, the entries and the arguments.
    const allowed = /^(PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|TZ|TMPDIR|TERM|LC_.*|API_KEY|GREETING|UNSET|LEAKED|FROM_ARG|TOOLPORT_TEST_DECLARED|TOOLPORT_TEST_GRANTED|TOOLPORT_TEST_API_KEY|SKILL_ARG_.*|PWD|SHLVL|_)$/;
    // In the sandbox, TMPDIR is its private /tmp.
    if (sandboxWorks) expect(env.TMPDIR).toBe('/tmp');
    for (const name of Object.keys(env)) expect(name).toMatch(allowed);
  });

  it('closes stdin: a command that reads it gets end-of-file at once instead of hanging', async () => {
    const started = Date.now();
    const result = await settle('exec__stdin', {});
    expect(result.isError).toBeUndefined();
    expect(textOf(result)).toBe('');
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('runs in the skill folder, resolves ~ to the home folder', async () => {
    expect(textOf(await settle('exec__cwd', {})).trim()).toBe(skill);
    expect(textOf(await settle('exec__home', {})).trim()).toBe(`hello from home ${join(root, 'home')}`);
  });
});

describe('command skills: results', () => {
  it('exit 0: stdout is the text; a JSON object is also structured content', async () => {
    const result = await settle('exec__json', { pair: 'ETH' });
    expect(result.isError).toBeUndefined();
    expect(textOf(result)).toBe('{"pair": "ETH", "price": 42.5}\n');
    expect(result.structuredContent).toEqual({ pair: 'ETH', price: 42.5 });
    const array = await settle('exec__array', {});
    expect(textOf(array)).toBe('[1, 2, 3]\n');
    expect(array.structuredContent).toBeUndefined();
  });

  it('non-zero exit: isError with the code, stdout and stderr', async () => {
    const result = await settle('exec__exit', { code: '3' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('exit failed with exit code 3.\nstdout:\npartial output\n\nstderr:\nboom: it broke\n');
  });

  it('death by signal: isError naming the signal', async () => {
    const result = await settle('exec__signal', {});
    expect(result.isError).toBe(true);
    // In the sandbox, bwrap reports a death by signal N as exit code 128 + N, as shells do.
    expect(textOf(result)).toContain(sandboxWorks ? 'signal failed with exit code 143 (as when killed by SIGTERM).' : 'signal was killed by signal SIGTERM.');
    expect(textOf(result)).toContain('about to die');
  });

  it('a long stderr is cut to its tail for the model', async () => {
    const result = await settle('exec__noisy', {});
    const text = textOf(result);
    expect(text).toContain('LAST-LINE');
    expect(text).not.toContain('FIRST-LINE');
    expect(text).toMatch(/stderr \(last 4096 of 100022 bytes\):/);
    expect(text.length).toBeLessThan(4300);
  });

  it('a command removed after load, or made non-executable, fails to start with a clear message', async () => {
    await rm(join(skill, 'scripts', 'vanishing.sh'));
    const gone = await toolport.call('exec__vanishing', {}).catch((reason: unknown) => reason);
    expect(isToolportError(gone) && gone.code).toBe(ErrorCode.PluginCrashed);
    expect(isToolportError(gone) && gone.shortMessage).toBe('vanishing could not be started: the program was not found');
    await chmod(join(skill, 'scripts', 'locked.sh'), 0o644);
    const locked = await settle('exec__locked', {});
    expect(locked.isError).toBe(true);
    expect(textOf(locked)).toBe('locked could not be started: permission denied');
    // The message is for the model: no paths.
    expect(textOf(locked)).not.toContain(root);
  });
});

describe('command skills: limits', () => {
  it("honours agent.toml's timeout_secs over defaults.timeoutSeconds", async () => {
    // defaults.timeoutSeconds is 1 s in this config; the tool says 3 s.
    const result = await settle('exec__slow', { seconds: '1.5' });
    expect(result.isError).toBeUndefined();
    expect(textOf(result)).toBe('slept 1.5\n');
    const late = await settle('exec__slow', { seconds: '10' });
    expect(textOf(late)).toMatch(/^slow timed out after 3 s and was stopped\./);
  });

  it('runs at most `concurrency` calls of a tool at once; the rest wait their turn', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const started = Date.now();
    const results = await Promise.all(ids.map((id) => settle('exec__crowd', { id })));
    const seen = results.map((result) => Number(textOf(result).trim()));
    expect(Math.max(...seen)).toBe(2);
    // Three rounds of 0.5 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_450);
  });

  it('a waiting call that is cancelled leaves the queue; the others still run', async () => {
    const controller = new AbortController();
    const first = settle('exec__crowd', { id: 'q1' });
    const second = settle('exec__crowd', { id: 'q2' });
    const cancelled = toolport.call('exec__crowd', { id: 'q3' }, { signal: controller.signal }).catch((reason: unknown) => reason);
    const fourth = settle('exec__crowd', { id: 'q4' });
    controller.abort();
    const error = await cancelled;
    expect(isToolportError(error) && error.code).toBe(ErrorCode.CallCancelled);
    for (const result of await Promise.all([first, second, fourth])) expect(result.isError).toBeUndefined();
    await expect(readFile(join(skill, 'seen-q3'), 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
