// What a plugin may ask the caller while its tool runs (ctx.elicit, ctx.sample, Python's
// approval and elicitation requests, the wasm host's query-agent), the same in every era:
// - a 2025-era connection asks at once, with a server→client request;
// - a 2026-07-28 request ends the call with input_required; the client retries with the
//   answers, the plugin runs again, and each question it asked before is answered at once
//   from the signed state (questions are keyed by their order and content);
// - a client that did not declare the capability ends the call with -32021.
// Questions asked together (before the plugin waits) go out in one round.
import { MissingRequiredClientCapabilityError, ProtocolError, ProtocolErrorCode, inputRequired, type CreateMessageRequestParamsBase, type ElicitRequestFormParams } from '@modelcontextprotocol/server';
import { ErrorCode, ToolportError } from '../core/errors.js';
import type { CallEnding, ClientRequests } from '../core/tool.js';
import { askRound, questionHash, roundTripLimits, type RoundQuestion } from '../policy/round-trip.js';
import type { ToolCall } from './call.js';

export interface Asker {
  /** What the plugin is given to ask with. */
  readonly client: ClientRequests;
  /** Set once the call has to end without the plugin's answer (a round of questions, or a refusal). */
  readonly interrupted: boolean;
  /** How the call ends instead of with the plugin's answer; resolves only if `interrupted`. */
  readonly ending: Promise<CallEnding>;
  /** Hears that ending when there is one (at once if there is already). Most calls never ask, so nothing waits on a promise. */
  onEnding(listener: (ending: CallEnding) => void): void;
}

type Capability = 'elicitation' | 'sampling';

/** The shape of an answer, checked before the plugin sees it (the client is not trusted). */
function wellFormed(kind: 'elicit' | 'sample', answer: unknown): boolean {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return false;
  const value = answer as Record<string, unknown>;
  if (kind === 'elicit') {
    const content = value.content;
    return ['accept', 'decline', 'cancel'].includes(value.action as string) && (content === undefined || (typeof content === 'object' && content !== null && !Array.isArray(content)));
  }
  return typeof value.role === 'string' && typeof value.model === 'string' && typeof value.content === 'object' && value.content !== null;
}

/** The plugin's pending question is dropped: the call ends here and runs again with the answer. */
function suspended(name: string): ToolportError {
  return new ToolportError(ErrorCode.CallCancelled, `${name} stops here and runs again when the client answers (input_required)`);
}

/** What asking needs once the plugin asks: the client it asks through, and whether the call must end instead. */
interface Questions {
  readonly client: ClientRequests;
  /** Whether the call has to end without the plugin's answer. */
  readonly interrupted: () => boolean;
}

/** The asker of one call. */
export function createAsker(call: ToolCall): Asker {
  return new CallAsker(call);
}

/**
 * Most tools never ask, so the questions are set up when the plugin first asks, and the ending
 * is kept plainly (a promise of it is made only for a caller that reads `ending`); until then
 * this is a small shell. A class: its state in fields and its methods on the prototype, not a
 * dozen closures made for every call.
 */
class CallAsker implements Asker {
  readonly client: ClientRequests;
  #settled: CallEnding | undefined = undefined;
  #listeners: ((ending: CallEnding) => void)[] | undefined = undefined;
  #ending: Promise<CallEnding> | undefined = undefined;
  #questions: Questions | undefined = undefined;

  constructor(private readonly call: ToolCall) {
    // Functions of their own: a plugin may take them apart from the client (module tools do).
    this.client = {
      elicit: (params) => this.#asking().client.elicit(params),
      sample: (params) => this.#asking().client.sample(params),
    };
  }

  get interrupted(): boolean {
    return this.#questions?.interrupted() ?? false;
  }

  get ending(): Promise<CallEnding> {
    return (this.#ending ??= new Promise((resolve) => this.onEnding(resolve)));
  }

  onEnding(listener: (ending: CallEnding) => void): void {
    if (this.#settled) listener(this.#settled);
    else (this.#listeners ??= []).push(listener);
  }

  #asking(): Questions {
    return (this.#questions ??= buildQuestions(this.call, (ending) => this.#settle(ending)));
  }

  #settle(ending: CallEnding): void {
    this.#settled = ending;
    const listeners = this.#listeners ?? [];
    this.#listeners = undefined;
    for (const listener of listeners) listener(ending);
  }
}

/** Asks as the call's era says; ends the call through `settle` when a round (or a refusal) must end it. */
function buildQuestions(call: ToolCall, settle: (ending: CallEnding) => void): Questions {
  const direct = call.options.client ?? {};
  const trip = call.trip;
  let interrupted = false;
  // Set when the round is sealed: a question asked after that is not sent.
  let sealed = false;
  const waiting: ((error: unknown) => void)[] = [];
  const interrupt = (end: () => Promise<CallEnding>): void => {
    if (interrupted) return;
    interrupted = true;
    // Questions asked in the same turn of the plugin join this round.
    setImmediate(() => {
      sealed = true;
      void end()
        .catch((error: unknown): CallEnding => ({ type: 'failed', error }))
        .then((result) => {
          settle(result);
          const reason = result.type === 'failed' ? result.error : suspended(call.name);
          for (const reject of waiting.splice(0)) reject(reason);
        });
    });
  };
  const later = (): Promise<never> => (sealed ? Promise.reject(suspended(call.name)) : new Promise((_, reject) => waiting.push(reject)));
  const refuse = (error: unknown): Promise<never> => {
    interrupt(() => Promise.resolve({ type: 'failed', error }));
    return later();
  };
  const missing = (capability: Capability): Promise<never> =>
    refuse(
      new MissingRequiredClientCapabilityError(
        { requiredCapabilities: { [capability]: {} } },
        `${call.name} asks the client for ${capability === 'elicitation' ? 'user input (elicitation)' : 'a model answer (sampling)'}, which this client did not declare`,
      ),
    );

  if (!trip) {
    // 2025-era (or in-process): ask directly when the client can be asked.
    return {
      client: {
        elicit: (params) => (direct.elicit ? direct.elicit(params) : missing('elicitation')),
        sample: (params) => (direct.sample ? direct.sample(params) : missing('sampling')),
      },
      interrupted: () => interrupted,
    };
  }

  const questions: RoundQuestion[] = [];
  let asked = 0;
  const ask = <T>(kind: 'elicit' | 'sample', params: ElicitRequestFormParams | CreateMessageRequestParamsBase, capability: Capability): Promise<T> => {
    if (sealed || (interrupted && questions.length === 0)) return later();
    const index = asked;
    asked += 1;
    const h = questionHash(kind, params);
    const recorded = trip.answers[index];
    if (recorded) {
      if (recorded.h === h && wellFormed(kind, recorded.a)) return Promise.resolve(recorded.a as T);
      if (recorded.h === h) {
        return refuse(new ProtocolError(ProtocolErrorCode.InvalidParams, `the answer to input request q${index} is not a valid ${kind === 'elicit' ? 'elicitation' : 'sampling'} result`));
      }
      return refuse(
        new ToolportError(
          ErrorCode.PluginBadOutput,
          `${call.name} asked a different question ${index + 1} when it ran again with the answers; a tool that asks must ask the same questions in the same order until they are answered`,
          { pluginId: call.tool.plugin.id },
        ),
      );
    }
    if (!trip.channel.capabilities[capability]) return missing(capability);
    if (index >= roundTripLimits.questions) {
      return refuse(new ToolportError(ErrorCode.PluginBadOutput, `${call.name} asked more than ${roundTripLimits.questions} questions in one call`, { pluginId: call.tool.plugin.id }));
    }
    const request = kind === 'elicit' ? inputRequired.elicit(params as ElicitRequestFormParams) : inputRequired.createMessage(params as CreateMessageRequestParamsBase);
    questions.push({ key: `q${index}`, h, request });
    interrupt(async () => ({ type: 'input_required', result: await askRound(trip, questions) }));
    return later();
  };
  return {
    client: {
      elicit: (params) => ask('elicit', params, 'elicitation'),
      sample: (params) => ask('sample', params, 'sampling'),
    },
    interrupted: () => interrupted,
  };
}
