// The package as npm delivers it: `npm pack` (whose prepack builds) of a copy of the
// repository, installed into an empty project; there `npx toolport --version`,
// `npx toolport list` of the shipped examples, the README's library example as written,
// the library's types under tsc, and the shipped JSON Schema.
import { execFile, spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { bwrapWorks as isolationAvailable } from '../helpers/sandbox.js';
import { readmeBlocks } from '../helpers/readme.js';
import { repoRoot, runToEnd, type RunResult } from '../helpers/toolport-process.js';

const exec = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** Environment for nested npm runs: without what `npm test` set for itself. */
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));

const run = (command: string, args: string[], cwd: string): Promise<RunResult> => runToEnd(command, args, { cwd, env });

/** The repository's files (tracked, and new ones not ignored), as a fresh clone has them. */
async function repositoryFiles(): Promise<string[]> {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const files = listed.stdout.split('\0').filter(Boolean);
  const present = await Promise.all(files.map((file) => stat(join(repoRoot, file)).then((info) => info.isFile(), () => false)));
  return files.filter((_, index) => present[index]);
}

const root = useTempDir('toolport-pack-', 'all');
let project: string;
let tarball: string;

beforeAll(async () => {
  const copy = join(root.path, 'toolport');
  for (const file of await repositoryFiles()) {
    await mkdir(dirname(join(copy, file)), { recursive: true });
    await copyFile(join(repoRoot, file), join(copy, file));
  }
  await symlink(join(repoRoot, 'node_modules'), join(copy, 'node_modules'));
  // No dist/ in the copy: prepack must build it.
  const packed = await run(npm, ['pack', '--pack-destination', root.path, '--loglevel=error'], copy);
  expect(packed).toMatchObject({ code: 0 });
  const name = (await readdir(root.path)).find((file) => file.endsWith('.tgz'));
  if (!name) throw new Error(`npm pack wrote no tarball:\n${packed.stderr}`);
  tarball = join(root.path, name);

  project = join(root.path, 'project');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'try-toolport', private: true, type: 'module' }));
  const installed = await run(npm, ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], project);
  expect(installed.stderr).not.toMatch(/ERR!/);
  expect(installed.code).toBe(0);
}, 600_000);

describe('the npm package', () => {
  it('ships dist (built by prepack), bin, templates, examples and the config schema; no tests or sources', async () => {
    const { stdout } = await exec('tar', ['tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean).map((file) => file.replace(/^package\//, ''));
    for (const file of ['bin/toolport.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/bundle/main.js', 'dist/config/toolport.schema.json', 'dist/adapters/python/host/main.py', 'dist/adapters/python/host/_toolport_host.py', 'templates/init/wasm/hello.wat', 'examples/notebook.mjs', 'README.md']) {
      expect(files).toContain(file);
    }
    expect(files.filter((file) => file.startsWith('test/') || file.startsWith('src/') || file.endsWith('.map'))).toEqual([]);
  });

  it('npx toolport --version and --help work in a project that installed the tarball', async () => {
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(await run(npx, ['--no-install', 'toolport', '--version'], project)).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect((await run(npx, ['--no-install', 'toolport', '--help'], project)).stdout).toContain('toolport init [DIR]');
  });

  it("the README's Start your own lines run in the installed project: npx toolport init tools --kind python, then check; the printed check line too", async () => {
    const init = await run(npx, ['--no-install', 'toolport', 'init', 'tools', '--kind', 'python'], project);
    expect(init).toMatchObject({ code: 0, stderr: '' });
    expect(await run(npx, ['--no-install', 'toolport', 'check', '--config', 'tools/toolport.yaml'], project)).toMatchObject({ code: 0, stdout: 'ok: 1 tool\n' });
    const lines = init.stdout.split('\n');
    const printed = lines[lines.indexOf('Then:') + 1]?.trim() ?? '';
    expect(printed).toContain(join('node_modules', 'toolport', 'bin', 'toolport.js'));
    expect(await run('sh', ['-c', printed], project)).toMatchObject({ code: 0, stdout: 'ok: 1 tool\n' });
  });

  it('npx toolport list serves the shipped examples', async () => {
    const listed = await run(npx, ['--no-install', 'toolport', 'list', 'node_modules/toolport/examples'], project);
    for (const tool of ['notebook__text_stats', 'bakery__menu', 'examples_reading_list__save_link']) expect(listed.stdout).toContain(tool);
    // The command skill needs network isolation to load without a grant.
    if (isolationAvailable) expect(listed.stdout).toContain('units__count_words');
    expect(listed.code).toBe(isolationAvailable ? 0 : 1);
  });

  it("the README's library example runs as written, and the library answers a call", async () => {
    const [library] = (await readmeBlocks()).filter((block) => block.lang === 'ts' && block.text.includes("from 'toolport'"));
    if (!library) throw new Error('no library block in the README');
    await mkdir(join(project, 'plugins'), { recursive: true });
    await copyFile(join(repoRoot, 'examples', 'notebook.mjs'), join(project, 'plugins', 'notebook.mjs'));
    await writeFile(join(project, 'readme-library.mjs'), library.text);
    expect(await run(process.execPath, ['readme-library.mjs'], project)).toMatchObject({ code: 0, stderr: '' });

    await writeFile(
      join(project, 'call.mjs'),
      [
        "import { createToolport, parseConfig } from 'toolport';",
        "const toolport = await createToolport(parseConfig({ plugins: [{ path: './plugins' }] }));",
        "const result = await toolport.call('notebook__text_stats', { text: 'One two. Three.' });",
        'process.stdout.write(JSON.stringify(result.structuredContent));',
        'await toolport.close();',
      ].join('\n'),
    );
    const called = await run(process.execPath, ['call.mjs'], project);
    expect(JSON.parse(called.stdout)).toMatchObject({ words: 3, sentences: 2 });
  });

  it('the library entry has types: a TypeScript file using it passes tsc', async () => {
    await writeFile(
      join(project, 'typed.ts'),
      [
        "import { createToolport, parseConfig, ToolportError, type Config, type Toolport } from 'toolport';",
        "const config: Config = parseConfig({ plugins: [{ path: './plugins' }] });",
        'const toolport: Toolport = await createToolport(config);',
        "const names: string[] = toolport.listTools().map((tool) => tool.name);",
        'export const checked = { names, isError: ToolportError.name };',
      ].join('\n'),
    );
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', '--types', 'node', '--typeRoots', join(repoRoot, 'node_modules', '@types'), 'typed.ts'];
    expect(await run(process.execPath, [tsc, ...args], project)).toMatchObject({ code: 0, stdout: '' });
    await writeFile(join(project, 'wrong.ts'), "import { createToolport } from 'toolport';\nexport const wrong: number = createToolport;\n");
    // …and a wrong use fails, so the types are really there.
    const wrong = await run(process.execPath, [tsc, ...args.slice(0, -1), 'wrong.ts'], project);
    expect(wrong.stdout).toMatch(/^wrong\.ts\(2,14\): error TS2322: Type '.*Promise<Toolport>' is not assignable to type 'number'/);
  });

  it('npx toolport schema prints the schema the package ships as toolport/schema.json', async () => {
    const printed = await run(npx, ['--no-install', 'toolport', 'schema'], project);
    const shipped = await run(process.execPath, ['--input-type=module', '-e', "import schema from 'toolport/schema.json' with { type: 'json' }; process.stdout.write(JSON.stringify(schema, null, 2) + '\\n');"], project);
    expect(shipped.code).toBe(0);
    expect(printed.stdout).toBe(shipped.stdout);
  });
});
