// The build writes the Python host's bytecode (scripts/copy-assets.mjs), so a host starts
// without compiling its ~1,000 lines: Python must load _toolport_host from it, hash-checked
// against the source. With the python3 the build used (TOOLPORT_PYTHON, else python3).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const hostDir = fileURLToPath(new URL('../../../dist/adapters/python/host', import.meta.url));
const python = process.env.TOOLPORT_PYTHON ?? 'python3';
const hasPython = spawnSync(python, ['-c', 'pass']).status === 0;

describe.skipIf(!hasPython)(`the Python host's bytecode${hasPython ? '' : ' (skipped: no python3 here)'}`, () => {
  it('is what Python loads the host from, and is checked against the source by its hash', () => {
    // -B: this import must not write the bytecode itself (the test would then pass on its own).
    const script = [
      'import importlib.util, json, sys',
      `sys.path.insert(0, ${JSON.stringify(hostDir)})`,
      'import _toolport_host',
      'pyc = importlib.util.cache_from_source(_toolport_host.__file__)',
      'data = open(pyc, "rb").read()',
      'flags = int.from_bytes(data[4:8], "little")',
      'source = open(_toolport_host.__file__, "rb").read()',
      'print(json.dumps({"flags": flags, "hashMatches": data[8:16] == importlib.util.source_hash(source), "file": _toolport_host.__file__}))',
    ].join('\n');
    const run = spawnSync(python, ['-B', '-v', '-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    expect(run.status, run.stderr.slice(-2000)).toBe(0);
    const answer = JSON.parse(run.stdout) as { flags: number; hashMatches: boolean; file: string };
    // 0b11: hash-based, checked against the source on every import.
    expect(answer).toEqual({ flags: 0b11, hashMatches: true, file: `${hostDir}/_toolport_host.py` });
    // -v names where a module's code came from.
    expect(run.stderr).toMatch(/# code object from '[^']*__pycache__\/_toolport_host\.cpython-\d+\.pyc'/);
  });
});
