// The environment of a skill's process: the allowlist every plugin process gets and the
// granted variables (see core/sandbox.ts), then the skill's `env` entries expanded the way
// Go's os.ExpandEnv does but only from that environment and the call's arguments, then
// SKILL_ARG_<NAME> per argument. Never toolport's whole environment.

export type Environment = Record<string, string>;

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


/** EvoClaw's name for an argument in the environment: SKILL_ARG_ plus the key in upper case. */
export function toSkillArgName(key: string): string {
  return `SKILL_ARG_${key.toUpperCase()}`;
}

/**
 * The environment of one call: `base` (allowlist and grants), the `env` entries expanded from
 * it and the call's SKILL_ARG_* values (so an ungranted name expands to empty), then the
 * arguments as SKILL_ARG_*, which win over the entries as in EvoClaw.
 */
export function toCallEnvironment(base: Readonly<Environment>, entries: readonly string[], args: Readonly<Record<string, string>>): Environment {
  const env: Environment = { ...base };
  const skillArgs: Environment = {};
  for (const [key, value] of Object.entries(args)) skillArgs[toSkillArgName(key)] = value;
  const lookup = (name: string): string | undefined => skillArgs[name] ?? base[name];
  for (const entry of entries) {
    const expanded = expandLikeGo(entry, lookup);
    const equals = expanded.indexOf('=');
    if (equals <= 0) continue;
    env[expanded.slice(0, equals)] = expanded.slice(equals + 1);
  }
  return Object.assign(env, skillArgs);
}

/** The variable names an `env` entry expands (`${NAME}`, `$NAME`; not the one-character specials). */
export function toExpandedNames(entry: string): string[] {
  const names: string[] = [];
  expandLikeGo(entry, (name) => {
    if (/^[A-Za-z_]\w*$/.test(name) && !names.includes(name)) names.push(name);
    return undefined;
  });
  return names;
}
