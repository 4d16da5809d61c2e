// Build step after tsc: copies the files under src/ that tsc does not compile (such as
// the Python host of the python adapter) to the same place under dist/.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}src`;
const target = `${root}dist`;
const compiled = /\.(?:[cm]?ts)$/;
const host = `${target}/adapters/python/host`;

// The Python host is only copied files: made afresh, so a file gone from src/ does not linger.
rmSync(host, { recursive: true, force: true });
if (existsSync(source)) {
  cpSync(source, target, {
    recursive: true,
    filter: (path) => !path.includes('__pycache__') && (statSync(path).isDirectory() || !compiled.test(path)),
  });
}

// The Python host's bytecode, so that a host starts without compiling ~1,000 lines (~20 ms):
// hash-checked, so Python uses it only while the source is the same, whatever the file times
// (npm packs every file with one date), and only an interpreter of the same version reads it.
// Without a python3 here the host is compiled when it starts, as before.
if (existsSync(host)) {
  const python = process.env.TOOLPORT_PYTHON ?? 'python3';
  const result = spawnSync(python, ['-m', 'compileall', '-q', '--invalidation-mode', 'checked-hash', host], { encoding: 'utf8' });
  if (result.status !== 0) process.stderr.write(`copy-assets: the Python host's bytecode was not written (${result.error?.message ?? result.stderr.trim()}); it is compiled when it starts\n`);
}
