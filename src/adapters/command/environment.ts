// The environment of a skill's process: a short allowlist of toolport's variables, the
// variables the skill or the config names, the skill's `env` entries expanded the way Go's
// os.ExpandEnv does, and SKILL_ARG_<NAME> per argument. Never toolport's whole environment.

/** Variables every skill gets from toolport's environment (locale, time zone, paths, who). */
const allowlist = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM'];
const localePrefix = 'LC_';
const defaultPath = '/usr/local/bin:/usr/bin:/bin';

export type Environment = Record<string, string>;

export interface EnvironmentPlan {
  /** Names passed through from toolport's environment besides the allowlist (config grants, SKILL.md). */
  readonly passThrough: readonly string[];
  /** agent.toml `env` entries, `KEY=value` with `${VAR}` / `$VAR` in them. */
  readonly entries: readonly string[];
}

function isShellSpecial(char: string): boolean {
  return '*#$@!?-'.includes(char) || (char >= '0' && char <= '9');
}

function isNameChar(char: string): boolean {
  return char === '_' || (char >= '0' && char <= '9') || (char >= 'a' && char <= 'z') || (char >= 'A' && char <= 'Z');
}

/**
 * Go's os.Expand: `${NAME}`, `$NAME` and the one-character shell specials; an unset variable
 * is empty; a `$` followed by nothing usable stays a `$`; bad `${` syntax is dropped.
 */
export function expandLikeGo(text: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    if (char !== '$' || index + 1 >= text.length) {
      out += char;
      index += 1;
      continue;
    }
    const next = text[index + 1] as string;
    if (next === '{') {
      const end = text.indexOf('}', index + 2);
      if (end === -1 || end === index + 2) {
        // Go eats the bad syntax: the `${` of an unclosed brace, or a whole `${}`.
        index = end === -1 ? index + 2 : end + 1;
        continue;
      }
      out += lookup(text.slice(index + 2, end)) ?? '';
      index = end + 1;
      continue;
    }
    if (isShellSpecial(next)) {
      out += lookup(next) ?? '';
      index += 2;
      continue;
    }
    let end = index + 1;
    while (end < text.length && isNameChar(text[end] as string)) end += 1;
    if (end === index + 1) {
      out += '$';
      index += 1;
      continue;
    }
    out += lookup(text.slice(index + 1, end)) ?? '';
    index = end;
  }
  return out;
}

/** The part of the environment that does not depend on the call's arguments. */
export function toBaseEnvironment(plan: EnvironmentPlan, source: NodeJS.ProcessEnv): Environment {
  const env: Environment = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (allowlist.includes(name) || name.startsWith(localePrefix)) env[name] = value;
  }
  env.PATH ??= defaultPath;
  for (const name of plan.passThrough) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  const lookup = (name: string): string | undefined => source[name];
  for (const entry of plan.entries) {
    const expanded = expandLikeGo(entry, lookup);
    const equals = expanded.indexOf('=');
    if (equals <= 0) continue;
    env[expanded.slice(0, equals)] = expanded.slice(equals + 1);
  }
  return env;
}

/** EvoClaw's name for an argument in the environment: SKILL_ARG_ plus the key in upper case. */
export function toSkillArgName(key: string): string {
  return `SKILL_ARG_${key.toUpperCase()}`;
}
