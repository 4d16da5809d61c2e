// The vocabulary of approvals, shared by the approval chain, the inbox and the transports:
// what is asked, over which channel, and what came back.
import type { ElicitRequestFormParams, ElicitResult, InputRequiredResult } from '@modelcontextprotocol/server';

/** The channels through which someone may answer an approval prompt (config `approvals.channels`). */
export const approvalChannelNames = ['elicitation', 'input_required', 'inbox'] as const;
export type AskingChannel = (typeof approvalChannelNames)[number];

export interface ApprovalRequest {
  tool: string;
  plugin: string;
  kind: string;
  principal: string;
  sessionKey: string | undefined;
  /** `name/version` of the client, when it said. */
  client?: string | undefined;
  args: Record<string, unknown>;
  permissions: readonly string[];
  digest: string;
  /** Why approval is needed: the rule or default that said `ask`. */
  because: string;
  /** Who may answer, in the order they are tried. */
  channels: readonly AskingChannel[];
  /** How the tool's definition differs from its pin, when that is why approval is asked. */
  change?: string;
}

export type ApprovalChannelName = 'session' | 'elicitation' | 'input_required' | 'inbox' | 'cli' | 'none';

export type ApprovalAnswer =
  | { approved: true; channel: ApprovalChannelName; scope: 'once' | 'session'; approver: string }
  | { approved: false; channel: ApprovalChannelName; reason: string; approver?: string };

/** No answer yet: it has to come from a retried request (2026-07-28 `input_required`). */
export interface ApprovalPending {
  readonly pending: InputRequiredResult;
}

/** What the transport offers for asking this call's client. */
export interface ApprovalChannel {
  /** The person running the call approved it up front (`toolport call --approve`); names them. */
  preApproved?: string | undefined;
  /** Approvals "for this session" are remembered under this key. */
  sessionKey?: string | undefined;
  /** Push elicitation (2025-era connection, client declared elicitation). */
  elicit?: ((params: ElicitRequestFormParams) => Promise<ElicitResult>) | undefined;
  /**
   * The input_required round trip (2026-07-28 request, client declared elicitation): the
   * answer a retry brought for this call's approval form, and how to ask for it.
   */
  roundTrip?:
    | {
        /** The client's answer to the approval form on a retried request, if the last round asked it. */
        response: unknown;
        /** Ends the call with the approval form as an input request. */
        ask(form: ElicitRequestFormParams): Promise<InputRequiredResult>;
      }
    | undefined;
}
