// Reads a config file (YAML or JSON), fills in ${VAR} and ${VAR:-default} from the
// environment, and validates it; every problem is reported with the file and its path.
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { ErrorCode, ToolportError } from '../core/errors.js';
import { formatPath, formatZodIssues, isUrl } from '../core/format.js';
import { configSchema, type Config, type PluginEntry } from './schema.js';

export interface LoadedConfig {
  readonly config: Config;
  /** The config file, when there was one. */
  readonly file: string | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

function configError(file: string | undefined, lines: readonly string[]): ToolportError {
  const head = file ? `invalid config ${file}` : 'invalid config';
  return new ToolportError(ErrorCode.ConfigInvalid, `${head}:\n${lines.map((line) => `  ${line}`).join('\n')}`);
}

const variablePattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces ${VAR} and ${VAR:-default} in every string value; collects unset variables as problems. */
export function interpolateEnv(value: unknown, env: Env, path: PropertyKey[] = [], problems: string[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(variablePattern, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push(`${formatPath(path)}: environment variable ${name} is not set (write \${${name}:-default} to give a default)`);
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
function resolvePluginPaths(plugins: PluginEntry[], baseDir: string): PluginEntry[] {
  return plugins.map((entry) =>
    isUrl(entry.path) || isAbsolute(entry.path) ? entry : { ...entry, path: resolve(baseDir, entry.path) },
  );
}

/** Validates an already-parsed config object (from a file or from code). */
export function parseConfig(raw: unknown, options: { file?: string; env?: Env; baseDir?: string } = {}): Config {
  const problems: string[] = [];
  const interpolated = interpolateEnv(raw ?? {}, options.env ?? process.env, [], problems);
  if (problems.length > 0) throw configError(options.file, problems);
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) throw configError(options.file, formatZodIssues(parsed.error.issues));
  const baseDir = options.baseDir ?? (options.file ? dirname(options.file) : process.cwd());
  const { audit } = parsed.data;
  return {
    ...parsed.data,
    plugins: resolvePluginPaths(parsed.data.plugins, baseDir),
    // Hook modules are found like plugins: relative to the config file.
    hooks: parsed.data.hooks.map((entry) => (isAbsolute(entry.path) ? entry : { ...entry, path: resolve(baseDir, entry.path) })),
    ...(audit && { audit: { ...audit, path: resolve(baseDir, audit.path) } }),
    ...(parsed.data.stateDir !== undefined && { stateDir: resolve(baseDir, parsed.data.stateDir) }),
  };
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
  try {
    raw = extname(absolute).toLowerCase() === '.json' ? JSON.parse(text) : (await import('yaml')).parse(text);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new ToolportError(ErrorCode.ConfigInvalid, `cannot parse config ${file}: ${reason}`, { cause: error });
  }
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw configError(file, ['(top level): expected a mapping of keys such as server, plugins, naming']);
  }
  return { config: parseConfig(raw, { file, env }), file: absolute };
}

/** Adds plugin PATH arguments (relative to the working directory) to a config. */
export function withPluginPaths(config: Config, paths: readonly string[], cwd = process.cwd()): Config {
  if (paths.length === 0) return config;
  const extra = paths.map((path) => ({ path: isUrl(path) ? path : resolve(cwd, path) }));
  return { ...config, plugins: [...config.plugins, ...extra] };
}
