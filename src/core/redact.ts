// Secret values (tokens, plugin secrets, granted env values) known at run time, and the
// one function that scrubs them from any text before it is logged or written to audit.

export interface SecretSet {
  add(...values: readonly (string | undefined)[]): void;
  /** Replaces every known secret (and its JSON-escaped form) with [redacted]. */
  redact(text: string): string;
  readonly size: number;
}

/** Secrets shorter than this are not scrubbed: they would match ordinary text. */
const minimumLength = 6;

export function createSecretSet(): SecretSet {
  const secrets = new Set<string>();
  let sorted: string[] = [];
  return {
    add(...values) {
      for (const value of values) {
        if (value === undefined || value.length < minimumLength) continue;
        secrets.add(value);
        const escaped = JSON.stringify(value).slice(1, -1);
        if (escaped !== value) secrets.add(escaped);
      }
      // Longest first, so a secret that contains another is replaced whole.
      sorted = [...secrets].sort((a, b) => b.length - a.length);
    },
    redact(text) {
      let out = text;
      for (const secret of sorted) {
        if (out.includes(secret)) out = out.split(secret).join('[redacted]');
      }
      return out;
    },
    get size() {
      return secrets.size;
    },
  };
}
