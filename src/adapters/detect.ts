// Kind detection for plugin paths: a file by its extension (and a JSON file by its
// content), a skill folder by its agent.toml, a Python package by its __init__.py, any
// other folder as a folder of plugins.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { isUrl, type Position } from '../core/format.js';
import { parseJsonText } from '../core/json-text.js';
import type { PluginBlock, PluginKind } from '../core/plugin.js';
import { pathExists } from '../core/files.js';

export interface DetectedPlugin {
  readonly entry: PluginBlock & { readonly kind: PluginKind };
  /** Index of the config entry it came from. */
  readonly index: number;
}

export interface DetectionProblem {
  readonly index: number;
  readonly path: string;
  readonly message: string;
  /** Where in the file, when the problem is in its text. */
  readonly at?: Position | undefined;
}

const moduleExtensions = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);

/** Whether a .json file is a Carter manifest; JSON that does not parse is a problem that says where. */
async function isCarterManifest(path: string): Promise<boolean | { problem: string; at?: Position | undefined }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { problem: `cannot read it (${(error as Error).message})` };
  }
  const parsed = parseJsonText(text);
  if ('error' in parsed) {
    return { problem: `not valid JSON: ${parsed.error}`, at: parsed.position };
  }
  const { value } = parsed;
  return typeof value === 'object' && value !== null && 'manifest_version' in value;
}

/** The kind of one file or folder, or a reason it is none. Folders of plugins are `folder`. */
async function detectOne(path: string): Promise<PluginKind | 'folder' | { problem: string; at?: Position | undefined }> {
  if (isUrl(path)) return 'http';
  let info;
  try {
    info = await stat(path);
  } catch {
    return { problem: 'file not found' };
  }
  if (info.isDirectory()) {
    if (await pathExists(join(path, 'agent.toml'))) return 'command';
    if (await pathExists(join(path, '__init__.py'))) return 'python';
    // A skill of instructions only: served as an MCP skill with no tools.
    if (await pathExists(join(path, 'SKILL.md'))) return 'command';
    return 'folder';
  }
  const extension = extname(path).toLowerCase();
  if (extension === '.wasm') return 'wasm';
  if (extension === '.py') return 'python';
  if (moduleExtensions.has(extension)) return 'module';
  if (extension === '.json') {
    const manifest = await isCarterManifest(path);
    if (typeof manifest === 'object') return manifest;
    if (manifest) return 'http';
    return { problem: 'a .json file is a plugin only when it is a Carter manifest (with "manifest_version")' };
  }
  return { problem: `cannot tell the plugin kind of "${basename(path)}"; set "kind" (wasm, python, command, http or module)` };
}

/**
 * Resolves every entry to one or more plugins with a kind. A folder that is not a skill
 * is read one level deep; what in it is not a plugin is skipped.
 */
export async function detectPlugins(entries: readonly PluginBlock[]): Promise<{ plugins: DetectedPlugin[]; problems: DetectionProblem[] }> {
  const plugins: DetectedPlugin[] = [];
  const problems: DetectionProblem[] = [];
  for (const [index, entry] of entries.entries()) {
    if (entry.kind) {
      plugins.push({ entry: { ...entry, kind: entry.kind }, index });
      continue;
    }
    const kind = await detectOne(entry.path);
    if (typeof kind === 'object') {
      problems.push({ index, path: entry.path, message: kind.problem, at: kind.at });
      continue;
    }
    if (kind !== 'folder') {
      plugins.push({ entry: { ...entry, kind }, index });
      continue;
    }
    const names = (await readdir(entry.path)).sort();
    const found: DetectedPlugin[] = [];
    for (const name of names) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const child = join(entry.path, name);
      const childKind = await detectOne(child);
      if (typeof childKind === 'string' && childKind !== 'folder') {
        found.push({ entry: { ...entry, path: child, kind: childKind }, index });
      }
    }
    if (found.length === 0) {
      problems.push({ index, path: entry.path, message: 'the folder holds no plugin (.wasm, .py, .js/.mjs/.ts, Carter .json, a skill folder with agent.toml or SKILL.md, or a Python package with __init__.py)' });
    } else if (found.length > 1 && entry.id !== undefined) {
      problems.push({ index, path: entry.path, message: '"id" names one plugin, but this folder holds several; list them one by one' });
    } else {
      plugins.push(...found);
    }
  }
  return { plugins, problems };
}
