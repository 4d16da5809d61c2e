// Progress in phases: the approval wait, then the plugin; one increasing sequence with
// totals a progress bar can show.
import { describe, expect, it } from 'vitest';
import { createProgressPhases } from '../../src/core/progress.js';

type Sent = [number, number | undefined, string | undefined];
const into = (sent: Sent[]) => (progress: number, total?: number, message?: string): number => sent.push([progress, total, message]);

describe('createProgressPhases', () => {
  it('a plugin phase alone reports its own values unchanged, dropping those that do not increase', () => {
    const sent: Sent[] = [];
    const plugin = createProgressPhases(into(sent))();
    plugin(0, 4);
    plugin(2, 4, 'half');
    plugin(1, 4);
    plugin(4, 4);
    expect(sent).toEqual([
      [0, 4, undefined],
      [2, 4, 'half'],
      [4, 4, undefined],
    ]);
  });

  it('after an approval wait, the plugin continues where the wait stopped, with its total moved along', () => {
    const sent: Sent[] = [];
    const next = createProgressPhases(into(sent));
    const approval = next();
    approval(0, 120, 'waiting');
    approval(5, 120, 'waiting');
    approval(10, 120, 'waiting');
    const plugin = next();
    plugin(0, 4);
    plugin(1, 4);
    plugin(4, 4);
    plugin(7);
    expect(sent).toEqual([
      [0, 120, 'waiting'],
      [5, 120, 'waiting'],
      [10, 120, 'waiting'],
      [11, 14, undefined],
      [14, 14, undefined],
      [17, undefined, undefined],
    ]);
  });
});
