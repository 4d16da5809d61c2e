import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exposedNamePattern, shortenName, toExposedName, toSafeName } from '../../src/core/naming.js';

describe('exposed names', () => {
  it.each([
    ['acme.weather', 'acme_weather'],
    ['get forecast!', 'get_forecast_'],
    ['ünïcode', '_n_code'],
    ['', '_'],
    ['kebab-and_snake9', 'kebab-and_snake9'],
  ])('toSafeName(%j) = %j', (raw, safe) => {
    expect(toSafeName(raw)).toBe(safe);
  });

  it('prefixes with the plugin id and a double underscore', () => {
    expect(toExposedName('acme.notes', 'add-note', true, 64)).toBe('acme_notes__add-note');
    expect(toExposedName('acme.notes', 'add-note', false, 64)).toBe('add-note');
  });

  it('shortens long names deterministically, with a hash that tells them apart', () => {
    const long = 'x'.repeat(40);
    const a = toExposedName('plugin', `${long}_alpha`, true, 48);
    const b = toExposedName('plugin', `${long}_beta`, true, 48);
    expect(a).toHaveLength(48);
    expect(b).toHaveLength(48);
    expect(a).not.toBe(b);
    expect(toExposedName('plugin', `${long}_alpha`, true, 48)).toBe(a);
    expect(a).toMatch(/_[0-9a-f]{8}$/);
    expect(a).toMatch(exposedNamePattern);
  });

  it('never exceeds 64 characters whatever maxLength says', () => {
    expect(toExposedName('p', 'y'.repeat(200), true, 500)).toHaveLength(64);
    expect(shortenName('short', 64)).toBe('short');
  });

  it('gives a shortened name _ plus the first 8 hex digits of the SHA-256 of the full name (README, Tool names)', () => {
    const full = `plugin__${'x'.repeat(40)}_alpha`;
    const sha256 = createHash('sha256').update(full).digest('hex');
    const shortened = toExposedName('plugin', `${'x'.repeat(40)}_alpha`, true, 48);
    expect(shortened).toBe(`${full.slice(0, 48 - 9)}_${sha256.slice(0, 8)}`);
    // The default maxLength (64): the full name is the safe prefixed one.
    const longFull = `acme_notes__${'y'.repeat(80)}`;
    expect(toExposedName('acme.notes', 'y'.repeat(80), true, 64)).toBe(`${longFull.slice(0, 55)}_${createHash('sha256').update(longFull).digest('hex').slice(0, 8)}`);
  });
});
