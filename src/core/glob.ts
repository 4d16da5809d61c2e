// Glob patterns over tool names (`weather__*`, `*__delete_*`): `*` is any run of
// characters, `?` is one character; everything else is literal.

export type GlobMatcher = (name: string) => boolean;

export function compileGlob(pattern: string): GlobMatcher {
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  const regex = new RegExp(`^${source}$`);
  return (name) => regex.test(name);
}

/** True when any pattern matches. An empty list matches nothing. */
export function compileGlobs(patterns: readonly string[]): GlobMatcher {
  const matchers = patterns.map(compileGlob);
  return (name) => matchers.some((match) => match(name));
}
