// The `python` kind: ScaiWave BasePlugin classes (a .py file or a package folder) run
// unmodified in a persistent Python host, one process per configured plugin.
import { defineAdapter } from '../../core/plugin.js';
import { loadPythonSpec } from './python-plugin.js';
import { pythonSpecSchema, type PythonSpec } from './spec.js';

export const pythonAdapter = defineAdapter<PythonSpec>({ kind: 'python', spec: pythonSpecSchema, load: loadPythonSpec });

export type { PythonSpec } from './spec.js';
