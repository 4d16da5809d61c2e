// The 2026-07-28 round trip (`input_required`) as the one way a call asks its client
// anything: the approval form and the questions plugins ask (elicitation, sampling). One
// signed requestState format carries the exact call, what the last round asked, and every
// answer so far; the retry that brings answers claims the state's nonce, so each state (and
// each answer) is used once. States expire with the signing codec (10 minutes).
import { createHash, randomUUID } from 'node:crypto';
import { inputRequired, type InputRequest, type InputRequiredResult } from '@modelcontextprotocol/server';
import { ErrorCode, ToolportError } from '../core/errors.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { SingleUseStore } from './single-use.js';

/** What the signed requestState of a round trip carries. The client can read it (signed, not encrypted). */
export interface RoundTripState {
  /** The exact call (tool and arguments) the state belongs to. */
  digest: string;
  /** Claimed by the retry that brings the answers: a replay finds it taken. */
  nonce: string;
  /** The call was approved in an earlier round (that approval was claimed then). */
  approved?: true;
  /** The plugin's questions answered so far, in the order it asked them. */
  answers: RecordedAnswer[];
  /** What the last round asked: the key in `inputRequests` and the question's hash. */
  asked: AskedQuestion[];
}

export interface RecordedAnswer {
  /** Hash of the question (its kind and parameters). */
  h: string;
  /** The client's answer. */
  a: unknown;
}

export interface AskedQuestion {
  key: string;
  h: string;
}

/** How long a round trip's requestState verifies. */
export const roundTripStateTtlSeconds = 600;

/** Bounds on what one call may ask: questions in all, and the size of the state that carries the answers. */
export const roundTripLimits = { questions: 16, stateBytes: 256 * 1024 } as const;

/** The key of the approval form in `inputRequests` / `inputResponses`. */
export const approvalResponseKey = 'approval';

/** What a 2026-07-28 request offers for round trips (the transport fills it). */
export interface RoundTripChannel {
  /** The client's answers on a retried request (`inputResponses`); untrusted. */
  readonly responses: Readonly<Record<string, unknown>> | undefined;
  /** The verified requestState of a retried request, if any. */
  readonly state: unknown;
  /** Seals a state into the opaque requestState string (bound to the method and the principal). */
  mint(state: RoundTripState): Promise<string>;
  /** What the client declared on this request. */
  readonly capabilities: { readonly elicitation: boolean; readonly sampling: boolean };
}

/** A call's round trip after its retried request was checked. */
export interface RoundTrip {
  readonly channel: RoundTripChannel;
  readonly digest: string;
  /** Approved in an earlier round of this call. */
  approved: boolean;
  /** The answer to the approval form, when the last round asked it. */
  readonly approvalResponse: unknown;
  /** Every answer the plugin's questions have so far, in order. */
  readonly answers: readonly RecordedAnswer[];
}

/** One question of the round being asked. */
export interface RoundQuestion {
  readonly key: string;
  readonly h: string;
  readonly request: InputRequest;
}

/** The hash that keys a question: its kind and its parameters in canonical JSON. */
export function questionHash(kind: string, params: unknown): string {
  return createHash('sha256').update(kind).update('\u0000').update(canonicalJson(params)).digest('base64url').slice(0, 22);
}

function isRoundTripState(value: unknown): value is RoundTripState {
  if (typeof value !== 'object' || value === null) return false;
  const { digest, nonce, answers, asked } = value as Partial<RoundTripState>;
  return typeof digest === 'string' && typeof nonce === 'string' && Array.isArray(answers) && Array.isArray(asked);
}

/** Why a retried request was refused: its state (with the answers it brought) was used before. */
export class ReplayedStateError extends ToolportError {
  /** The replayed state had asked (or carried) the call's approval. */
  readonly approval: boolean;
  constructor(approval: boolean) {
    super(
      ErrorCode.CallDenied,
      approval
        ? 'this approval was already used (an approval lets one call run); ask again'
        : 'these answers were already used (a requestState and its answers let a call go on once); call the tool again',
    );
    this.approval = approval;
  }
}

/**
 * The round trip of a request that brings no state of this call: nothing asked or answered
 * yet. The call's digest is computed only if read, i.e. when a round is asked.
 */
export function freshRoundTrip(channel: RoundTripChannel, digestOf: () => string): RoundTrip {
  return new FreshRoundTrip(channel, digestOf);
}

/** A class for the lazy `digest`: an object literal with a getter costs each call far more (see core/call-signal.ts). */
class FreshRoundTrip implements RoundTrip {
  approved = false;
  readonly approvalResponse = undefined;
  readonly answers: readonly RecordedAnswer[] = [];
  constructor(
    readonly channel: RoundTripChannel,
    private readonly digestOf: () => string,
  ) {}
  get digest(): string {
    return this.digestOf();
  }
}

/**
 * Reads what a retried request brings for this call: a state for another call (or none)
 * starts afresh; a state used before is refused (ReplayedStateError). Answers are taken
 * only for what the state says was asked, in order; the first missing one is asked again.
 */
export async function openRoundTrip(channel: RoundTripChannel, digestOf: () => string, singleUse: SingleUseStore): Promise<RoundTrip> {
  const { state, responses } = channel;
  if (!isRoundTripState(state) || state.digest !== digestOf()) return freshRoundTrip(channel, digestOf);
  const askedApproval = state.asked.some((question) => question.key === approvalResponseKey);
  if (!(await singleUse.claim(state.nonce, roundTripStateTtlSeconds * 1000))) throw new ReplayedStateError(askedApproval || state.approved === true);
  const answers: RecordedAnswer[] = state.answers.filter((answer): answer is RecordedAnswer => typeof answer?.h === 'string');
  for (const question of state.asked) {
    if (question.key === approvalResponseKey) continue;
    const answer = responses?.[question.key];
    // Answers are positional: one missing stops the record there (the plugin asks it again).
    if (answer === undefined || `q${answers.length}` !== question.key) break;
    answers.push({ h: question.h, a: answer });
  }
  return {
    channel,
    digest: state.digest,
    approved: state.approved === true,
    approvalResponse: askedApproval ? responses?.[approvalResponseKey] : undefined,
    answers,
  };
}

/** Ends this round: the questions go to the client with a fresh state that carries every answer so far. */
export async function askRound(trip: RoundTrip, questions: readonly RoundQuestion[]): Promise<InputRequiredResult> {
  const state: RoundTripState = {
    digest: trip.digest,
    nonce: randomUUID(),
    ...(trip.approved && { approved: true as const }),
    answers: [...trip.answers],
    asked: questions.map(({ key, h }) => ({ key, h })),
  };
  const requestState = await trip.channel.mint(state);
  if (requestState.length > roundTripLimits.stateBytes) {
    throw new ToolportError(
      ErrorCode.PluginBadOutput,
      `the answers this call collected are larger than ${roundTripLimits.stateBytes / 1024} KiB, more than a requestState may carry; ask for less`,
    );
  }
  return inputRequired({ inputRequests: Object.fromEntries(questions.map((question) => [question.key, question.request])), requestState });
}
