// A 2026-07-28 request that brings no round-trip state starts a fresh round trip: the call's
// digest (canonical JSON and SHA-256 of its arguments) is computed only when a round is asked.
import { describe, expect, it } from 'vitest';
import { freshRoundTrip, type RoundTripChannel } from '../../src/policy/round-trip.js';

const channel: RoundTripChannel = {
  responses: undefined,
  state: undefined,
  mint: () => Promise.resolve('state'),
  capabilities: { elicitation: true, sampling: false },
};

describe('a fresh round trip', () => {
  it('has nothing asked or answered, and computes the digest only when it is read', () => {
    let computed = 0;
    const trip = freshRoundTrip(channel, () => {
      computed += 1;
      return 'digest-of-the-call';
    });
    expect(trip).toMatchObject({ channel, approved: false, approvalResponse: undefined, answers: [] });
    expect(computed).toBe(0);
    expect(trip.digest).toBe('digest-of-the-call');
    expect(computed).toBe(1);
  });
});
