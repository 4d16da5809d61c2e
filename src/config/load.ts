// Reads a config file (YAML or JSON), fills in ${VAR} and ${VAR:-default} from the
// environment, and validates it; every problem is reported with the file, the line and
// column, and its path in the config.
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { blockIssues } from '../adapters/plugin-blocks.js';
import { ConfigError, ErrorCode, ToolportError } from '../core/errors.js';
import { isUrl, parsedOnce, toIssues, type Issue, type Position } from '../core/format.js';
import { parseJsonText } from '../core/json-text.js';
import type { PluginBlock } from '../core/plugin.js';
import { configSchema, type Config, type PluginEntry } from './schema.js';

export interface LoadedConfig {
  readonly config: Config;
  /** The config file (absolute), when there was one. */
  readonly file: string | undefined;
  /** The file's text as it was read. */
  readonly text?: string;
  /** Where in the file a config path (or an unknown key in it) is written, when it can be found. */
  locate(issue: Pick<Issue, 'path' | 'key'>): Position | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

const variablePattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces ${VAR} and ${VAR:-default} in every string value; collects unset variables as problems. */
export function interpolateEnv(value: unknown, env: Env, path: PropertyKey[] = [], problems: Issue[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(variablePattern, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push({ path, message: `environment variable ${name} is not set (write \${${name}:-default} to give a default)` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolateEnv(item, env, [...path, index], problems));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateEnv(item, env, [...path, key], problems)]),
    );
  }
  return value;
}

/** Plugin paths in a config are relative to the config file's folder. */
function resolvePluginPaths(plugins: readonly PluginBlock[], baseDir: string): PluginEntry[] {
  return plugins.map((entry) =>
    isUrl(entry.path) || isAbsolute(entry.path) ? entry : { ...entry, path: resolve(baseDir, entry.path) },
  );
}

interface ParseOptions {
  file?: string;
  env?: Env;
  baseDir?: string;
  /** Puts `file:line:column` in front of a problem (set by loadConfigFile). */
  where?: (issue: Issue) => string | undefined;
}

/** The problems zod found, as a user should read them: a plugin block by its kind's spec. */
function configIssues(error: { issues: readonly z.core.$ZodIssue[] }, input: unknown): Issue[] {
  const plugins = (input as { plugins?: unknown }).plugins;
  return error.issues.flatMap((issue) => {
    const [top, index] = issue.path;
    if (top === 'plugins' && typeof index === 'number' && issue.path.length === 2 && Array.isArray(plugins)) {
      return blockIssues(plugins[index], issue.path);
    }
    return toIssues([issue], [], configSchema);
  });
}

/** Validates an already-parsed config object (from a file or from code). */
export function parseConfig(raw: unknown, options: ParseOptions = {}): Config {
  const fail = (issues: Issue[]): ConfigError => new ConfigError(issues, { file: options.file, where: options.where });
  const issues: Issue[] = [];
  const interpolated = interpolateEnv(raw ?? {}, options.env ?? process.env, [], issues);
  if (issues.length > 0) throw fail(issues);
  const parsed = configSchema.safeParse(interpolated, parsedOnce);
  if (!parsed.success) throw fail(configIssues(parsed.error, interpolated));
  const baseDir = options.baseDir ?? (options.file ? dirname(options.file) : process.cwd());
  const { audit } = parsed.data;
  // Plugin blocks stay as written: their kind, maybe known only after detection, fills in defaults.
  const blocks = ((interpolated as { plugins?: PluginBlock[] }).plugins ?? []).map((block) => ({ ...block }));
  return {
    ...parsed.data,
    plugins: resolvePluginPaths(blocks, baseDir),
    // Hook modules are found like plugins: relative to the config file.
    hooks: parsed.data.hooks.map((entry) => (isAbsolute(entry.path) ? entry : { ...entry, path: resolve(baseDir, entry.path) })),
    ...(audit && { audit: { ...audit, path: resolve(baseDir, audit.path) } }),
    ...(parsed.data.stateDir !== undefined && { stateDir: resolve(baseDir, parsed.data.stateDir) }),
  };
}

/** Finds config paths in a YAML (or JSON) text: the node at a path, or the key of an unknown key. */
async function createLocator(text: string): Promise<LoadedConfig['locate']> {
  const { LineCounter, isMap, isSeq, isScalar, parseDocument } = await import('yaml');
  // Parsed with positions only when a problem must be placed: a valid config never is.
  let parsed: { document: ReturnType<typeof parseDocument>; lineCounter: InstanceType<typeof LineCounter> } | undefined;
  const positions = (): NonNullable<typeof parsed> => {
    if (!parsed) {
      const lineCounter = new LineCounter();
      parsed = { document: parseDocument(text, { lineCounter }), lineCounter };
    }
    return parsed;
  };
  const toPosition = (offset: number): Position => {
    const { line, col } = positions().lineCounter.linePos(offset);
    return { line, column: col };
  };
  return ({ path, key }) => {
    let node: unknown = positions().document.contents;
    let found: Position | undefined = undefined;
    const rangeOf = (value: unknown): Position | undefined => {
      const range = (value as { range?: [number, number, number] } | null)?.range;
      return range ? toPosition(range[0]) : undefined;
    };
    found = rangeOf(node);
    for (const part of [...path, ...(key === undefined ? [] : [key])]) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(part));
        if (!pair) break;
        // An unknown key is shown at the key; anything else at its value.
        found = part === key ? rangeOf(pair.key) : (rangeOf(pair.value) ?? rangeOf(pair.key));
        node = pair.value;
      } else if (isSeq(node) && typeof part === 'number') {
        node = node.items[part];
        found = rangeOf(node) ?? found;
      } else break;
    }
    return found;
  };
}

/** A YAML syntax error as `file:line:column: what`, with the lines yaml shows under it. */
function yamlSyntaxError(file: string, text: string, error: Error & { linePos?: [{ line: number; col: number }, ...unknown[]] }): ToolportError {
  const [first = '', ...frame] = error.message.split('\n');
  const what = first.replace(/ at line \d+, column \d+:?$/, '');
  const at = error.linePos?.[0];
  const excerpt = frame.filter((line) => line.trim() !== '').map((line) => `    ${line}`);
  const where = at ? `${file}:${at.line}:${at.col}` : file;
  // `{ token: ${X} }` is the usual cause: in a flow map, { starts a nested map.
  const line = at ? (text.split('\n')[at.line - 1] ?? '') : '';
  const hint = /\{[^}]*\$\{/.test(line) ? ['  hint: inside { }, quote ${VAR} values: "${VAR}"'] : [];
  return new ToolportError(ErrorCode.ConfigInvalid, [`cannot parse config ${file}:`, `  ${where}: ${what}`, ...excerpt, ...hint].join('\n'), { cause: error });
}

export async function loadConfigFile(file: string, env: Env = process.env): Promise<LoadedConfig> {
  const absolute = resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new ToolportError(ErrorCode.ConfigInvalid, `cannot read config ${file}: ${reason}`, { cause: error });
  }
  let raw: unknown;
  if (extname(absolute).toLowerCase() === '.json') {
    const parsed = parseJsonText(text);
    if ('error' in parsed) {
      const where = parsed.position ? `${file}:${parsed.position.line}:${parsed.position.column}` : file;
      throw new ToolportError(ErrorCode.ConfigInvalid, `cannot parse config ${file}:\n  ${where}: ${parsed.error}`);
    }
    raw = parsed.value;
  } else {
    try {
      raw = (await import('yaml')).parse(text, { prettyErrors: true });
    } catch (error) {
      throw yamlSyntaxError(file, text, error as Error);
    }
  }
  const locate = await createLocator(text);
  const where = (issue: Issue): string | undefined => {
    const at = locate(issue);
    return at ? `${file}:${at.line}:${at.column}` : undefined;
  };
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError([{ path: [], message: 'expected a mapping of keys such as server, plugins, naming' }], { file, where });
  }
  return { config: parseConfig(raw, { file, env, where }), file: absolute, text, locate };
}

/**
 * The same config error with `file:line:column` in front of each problem: for problems
 * found after loading (a plugin block that does not fit the kind detected from its path).
 */
export function locateConfigError(error: ConfigError, file: string, loaded: Pick<LoadedConfig, 'locate'>): ConfigError {
  return new ConfigError(error.issues, {
    file,
    cause: error,
    where: (issue) => {
      const at = loaded.locate(issue);
      return at ? `${file}:${at.line}:${at.column}` : undefined;
    },
  });
}

/** Adds plugin PATH arguments (relative to the working directory) to a config. */
export function withPluginPaths(config: Config, paths: readonly string[], cwd = process.cwd()): Config {
  if (paths.length === 0) return config;
  const extra = paths.map((path) => ({ path: isUrl(path) ? path : resolve(cwd, path) }));
  return { ...config, plugins: [...config.plugins, ...extra] };
}
