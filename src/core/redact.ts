// Secret values (tokens, plugin secrets, granted env values) known at run time, and the
// one function that scrubs them from any text before it is logged or written to audit.

export interface SecretSet {
  add(...values: readonly (string | undefined)[]): void;
  /**
   * Replaces every known secret (and its JSON-escaped form) with [redacted]: one of 6 or more
   * characters wherever it occurs, a shorter one (3 to 5) where it stands alone.
   */
  redact(text: string): string;
  readonly size: number;
}

/** Secrets this long or longer are scrubbed wherever they occur. */
const anywhereLength = 6;
/**
 * Shorter ones (down to this) only where they stand alone, between characters that are no
 * letter or digit: anywhere, they would match ordinary words. Shorter still are not scrubbed.
 */
const aloneLength = 3;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createSecretSet(): SecretSet {
  const secrets = new Set<string>();
  let sorted: string[] = [];
  let alone: RegExp | undefined;
  return {
    add(...values) {
      for (const value of values) {
        if (value === undefined || value.length < aloneLength) continue;
        secrets.add(value);
        const escaped = JSON.stringify(value).slice(1, -1);
        if (escaped !== value) secrets.add(escaped);
      }
      // Longest first, so a secret that contains another is replaced whole.
      const all = [...secrets].sort((a, b) => b.length - a.length);
      sorted = all.filter((secret) => secret.length >= anywhereLength);
      const short = all.filter((secret) => secret.length < anywhereLength);
      alone = short.length > 0 ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${short.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`, 'gu') : undefined;
    },
    redact(text) {
      let out = text;
      for (const secret of sorted) {
        if (out.includes(secret)) out = out.split(secret).join('[redacted]');
      }
      return alone ? out.replace(alone, '[redacted]') : out;
    },
    get size() {
      return secrets.size;
    },
  };
}
