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
});
