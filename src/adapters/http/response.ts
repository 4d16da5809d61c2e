// Carter's response envelope: `{ success, data?, error?, forced_response? }` checked
// against Carter's rules (declared outputs, 500-character limits) and turned into an
// outcome. What Carter would reject, toolport rejects too, saying which rule broke.
import { ErrorCode, ToolportError } from '../../core/errors.js';
import { isPlainObject, textContent, type ContentBlock, type ToolOutcome } from '../../core/tool.js';
import type { OutputType, PreparedEndpoint } from './manifest.js';
import type { HttpAnswer } from './transport.js';

/** Carter's limits, in characters: `data` as JSON, `error`, `forced_response`. */
export const carterLimit = 500;

export interface AnswerContext {
  readonly endpoint: PreparedEndpoint;
  readonly pluginId: string;
  readonly maxBodyBytes: number;
  /** Replaces any secret the API echoed back, before anything reaches the model or the log. */
  readonly scrub: (value: unknown) => unknown;
}

/** Characters as people (and Python) count them: code points, not UTF-16 units. */
function characters(text: string): number {
  return text.length - (text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);
}

function typeMatches(value: unknown, type: OutputType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return isPlainObject(value);
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function optionalText(envelope: Record<string, unknown>, key: string, broken: string[]): string | undefined {
  const value = envelope[key];
  // Pydantic models without exclude_none send null for unset fields; that means "absent".
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    broken.push(`"${key}" must be a string, got ${describeType(value)}`);
    return undefined;
  }
  const length = characters(value);
  if (length > carterLimit) broken.push(`"${key}" is ${length} characters; Carter allows at most ${carterLimit}`);
  return value;
}

/** The text a model is given for a forced response: relay it verbatim. */
export function forcedResponseText(text: string): string {
  return `The plugin requires this exact reply. Send it to the user verbatim, with nothing added or changed:\n\n${text}`;
}

type ParsedBody = { kind: 'json'; value: unknown } | { kind: 'too-large' } | { kind: 'not-json' };

function parseBody(body: HttpAnswer['body']): ParsedBody {
  if (body === 'too-large') return { kind: 'too-large' };
  try {
    return { kind: 'json', value: JSON.parse(body.toString('utf8')) as unknown };
  } catch {
    return { kind: 'not-json' };
  }
}

/**
 * Turns an HTTP answer into an outcome. Resolves when the plugin answered in Carter's
 * format (also `success: false`); throws a ToolportError when the answer breaks the format.
 */
export function toOutcome(answer: HttpAnswer, context: AnswerContext): ToolOutcome {
  const { endpoint, pluginId } = context;
  const fail = (code: ErrorCode, message: string, detail?: string): ToolportError =>
    new ToolportError(code, `${endpoint.name}: ${message}`, { pluginId, ...(detail !== undefined && { detail }) });

  if (answer.status >= 300 && answer.status < 400) {
    throw fail(ErrorCode.PluginBadOutput, `the plugin's API answered with a redirect (HTTP ${answer.status}); toolport does not follow redirects`);
  }
  const parsed = parseBody(answer.body);
  if (parsed.kind === 'too-large') {
    throw fail(ErrorCode.PluginBadOutput, `the plugin's API answered more than ${context.maxBodyBytes} bytes; the answer was dropped`);
  }
  const ok = answer.status >= 200 && answer.status < 300;
  const envelope = parsed.kind === 'json' ? context.scrub(parsed.value) : undefined;

  if (!ok) {
    // A Carter-shaped failure is the plugin's own answer, whatever the status.
    if (isPlainObject(envelope) && envelope.success === false && typeof envelope.error === 'string' && characters(envelope.error) <= carterLimit) {
      return { content: [textContent(envelope.error)], isError: true };
    }
    const hint =
      answer.status === 401 || answer.status === 403
        ? '; it did not accept the secret token (check the plugin\'s secretToken in the toolport config)'
        : '';
    throw fail(ErrorCode.PluginCrashed, `the plugin's API answered HTTP ${answer.status}${hint}`, `content-type: ${answer.contentType ?? 'none'}`);
  }
  if (parsed.kind === 'not-json') {
    throw fail(ErrorCode.PluginBadOutput, 'the plugin\'s API answered something that is not JSON', `content-type: ${answer.contentType ?? 'none'}`);
  }
  if (!isPlainObject(envelope) || typeof envelope.success !== 'boolean') {
    throw fail(ErrorCode.PluginBadOutput, 'the plugin\'s answer is not a Carter response (a JSON object with a boolean "success")');
  }

  const broken: string[] = [];
  const rawData = envelope.data;
  let data: Record<string, unknown> = {};
  if (rawData !== undefined && rawData !== null) {
    if (!isPlainObject(rawData)) broken.push(`"data" must be an object, got ${describeType(rawData)}`);
    else data = rawData;
  }
  const undeclared = Object.keys(data).filter((key) => !endpoint.outputs.has(key));
  if (undeclared.length > 0) {
    broken.push(`"data" has ${undeclared.length === 1 ? 'a key' : 'keys'} the manifest does not declare as outputs of ${endpoint.name}: ${undeclared.map((key) => JSON.stringify(key)).join(', ')}`);
  }
  for (const [key, value] of Object.entries(data)) {
    const type = endpoint.outputs.get(key);
    if (type !== undefined && !typeMatches(value, type)) {
      broken.push(`data.${key} is ${describeType(value)}, but the manifest declares it as ${type}`);
    }
  }
  const dataJson = JSON.stringify(data);
  const dataLength = characters(dataJson);
  if (dataLength > carterLimit) broken.push(`"data" is ${dataLength} characters as JSON; Carter allows at most ${carterLimit}`);
  const error = optionalText(envelope, 'error', broken);
  const forced = optionalText(envelope, 'forced_response', broken);
  if (broken.length > 0) {
    throw fail(ErrorCode.PluginBadOutput, `the plugin's answer breaks Carter's response rules: ${broken.join('; ')}`);
  }

  const content: ContentBlock[] = [];
  if (envelope.success) {
    if (forced !== undefined) {
      content.push(textContent(forcedResponseText(forced)));
      if (Object.keys(data).length > 0) content.push(textContent(`Context for later turns (not for this reply): ${dataJson}`));
    } else {
      content.push(textContent(dataJson));
    }
    return { content, structuredContent: data };
  }
  const message = error ?? `${endpoint.name} failed; the plugin gave no reason`;
  if (forced !== undefined) {
    content.push(textContent(forcedResponseText(forced)));
    content.push(textContent(`Context for later turns (not for this reply): the plugin reported an error: ${message}`));
  } else {
    content.push(textContent(message));
  }
  return { content, isError: true };
}
