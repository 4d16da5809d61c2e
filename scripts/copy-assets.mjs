// Build step after tsc: copies the files under src/ that tsc does not compile (such as
// the Python host of the python adapter) to the same place under dist/.
import { cpSync, existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}src`;
const target = `${root}dist`;
const compiled = /\.(?:[cm]?ts)$/;

if (existsSync(source)) {
  cpSync(source, target, {
    recursive: true,
    filter: (path) => !path.includes('__pycache__') && (statSync(path).isDirectory() || !compiled.test(path)),
  });
}
