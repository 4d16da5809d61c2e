// Known secrets scrubbed from text: a long one wherever it occurs, a short one (3 to 5
// characters) where it stands alone, so a short broker password or token does not leak in
// "password q7Zp2" while ordinary words that contain it stay readable.
import { describe, expect, it } from 'vitest';
import { createSecretSet } from '../../src/core/redact.js';

describe('secret redaction', () => {
  it('a secret of 6 characters or more is replaced wherever it occurs, also JSON-escaped, the longest first', () => {
    const secrets = createSecretSet();
    secrets.add('s3cret-token', 'a"quote"b', 's3cret-token-and-more');
    expect(secrets.redact('x=s3cret-token;y=abcs3cret-tokenxyz')).toBe('x=[redacted];y=abc[redacted]xyz');
    expect(secrets.redact('{"v":"a\\"quote\\"b"}')).toBe('{"v":"[redacted]"}');
    expect(secrets.redact('s3cret-token-and-more')).toBe('[redacted]');
  });

  it('a secret of 3 to 5 characters is replaced where it stands alone, not inside a word', () => {
    const secrets = createSecretSet();
    secrets.add('q7Zp2', 'abc');
    expect(secrets.redact('password q7Zp2')).toBe('password [redacted]');
    expect(secrets.redact('client edge q7Zp2/1.0.0, "q7Zp2"')).toBe('client edge [redacted]/1.0.0, "[redacted]"');
    expect(secrets.redact('q7Zp2')).toBe('[redacted]');
    expect(secrets.redact('xq7Zp2 q7Zp2y abcdef éabc abc1')).toBe('xq7Zp2 q7Zp2y abcdef éabc abc1');
    expect(secrets.redact('abc.def')).toBe('[redacted].def');
  });

  it('a secret with characters special to regular expressions is matched as text', () => {
    const secrets = createSecretSet();
    secrets.add('a+b', '(x)');
    expect(secrets.redact('1 a+b 2 (x) aab')).toBe('1 [redacted] 2 [redacted] aab');
  });

  it('shorter than 3 characters, or undefined, is not a secret it can scrub', () => {
    const secrets = createSecretSet();
    secrets.add('ab', undefined, '');
    expect(secrets.size).toBe(0);
    expect(secrets.redact('ab cab')).toBe('ab cab');
  });
});
