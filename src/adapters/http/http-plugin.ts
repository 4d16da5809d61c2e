// The `http` kind: a Carter plugin (a JSON manifest plus the HTTP API it describes),
// each endpoint served as a tool and called with undici the way Carter calls it.
import { resolve } from 'node:path';
import { isUrl } from '../../core/format.js';
import { ErrorCode, ToolportError, describeThrown } from '../../core/errors.js';
import { createPluginLifecycle } from '../../core/lifecycle.js';
import type { CallOptions, ToolOutcome } from '../../core/tool.js';
import type { AdapterContext, LoadedPlugin } from '../../core/plugin.js';
import type { HttpSpec } from './spec.js';
import { ManifestError, checkManifest, parseManifestText, readManifestText, toToolDefinitions, type CheckedManifest } from './manifest.js';
import { deriveRelationshipToken, loadRelationshipKey } from './relationship.js';
import { toOutcome } from './response.js';
import { createEndpointClient, describeHttpFailure, type HttpAnswer, type HttpTimeouts } from './transport.js';

/** Answers bigger than this are dropped unread: Carter's own limits allow about 1.5 KB. */
export const maxResponseBytes = 1024 * 1024;



const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

function isLoopback(origin: string): boolean {
  const host = new URL(origin).hostname;
  // 127.0.0.0/8 as an address (the URL parser writes IPv4 hosts as four numbers), not a name that starts with "127.".
  return loopbackHosts.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Replaces every occurrence of the secret in the strings of a parsed answer. */
function createScrubber(secret: string): (value: unknown) => unknown {
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') return value.split(secret).join('[redacted]');
    if (Array.isArray(value)) return value.map(scrub);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [scrub(key) as string, scrub(item)]));
    }
    return value;
  };
  return scrub;
}

const identity = (value: unknown): unknown => value;

async function readChecked(spec: HttpSpec, source: string, timeouts: HttpTimeouts): Promise<CheckedManifest> {
  try {
    return checkManifest(parseManifestText(await readManifestText(source, timeouts)));
  } catch (error) {
    const message = error instanceof ManifestError ? error.message : `cannot load the manifest (${describeThrown(error)})`;
    throw new ToolportError(ErrorCode.PluginLoadFailed, `${spec.path}: ${message}`, { cause: error });
  }
}

export async function loadHttpPlugin(spec: HttpSpec, context: AdapterContext): Promise<LoadedPlugin> {
  const timeouts: HttpTimeouts = {
    connectMs: spec.timeouts.connectSeconds * 1000,
    headersMs: spec.timeouts.headersSeconds * 1000,
    bodyMs: spec.timeouts.bodySeconds * 1000,
  };
  const source = isUrl(spec.path) ? spec.path : resolve(context.baseDir, spec.path);
  let checked = await readChecked(spec, source, timeouts);
  const { manifest, origin } = checked;
  const id = manifest.name_for_machine;
  const pluginId = spec.id ?? id;
  const logger = context.logger.child({ plugin: pluginId });
  for (const warning of checked.warnings) logger.warn({ manifest: spec.path }, `Carter manifest: ${warning}`);
  // Whoever serves the manifest decides where calls (and the secret) go; say so when that is elsewhere.
  if (isUrl(source) && new URL(source).origin !== origin) {
    logger.warn({ manifest: source, origin }, 'the manifest sends calls (and the secret token) to another origin than the one it was fetched from');
  }

  const secret = spec.secretToken;
  if (secret === undefined) {
    logger.warn('no secretToken configured: requests carry no X-Carter-Plugin-Secret-Token header, and APIs that check it will refuse them');
  } else if (origin.startsWith('http:') && !isLoopback(origin)) {
    logger.warn({ origin }, 'api.base_url is plain http on a non-loopback host: the secret token travels unencrypted');
  }
  if (spec.grants.network || spec.grants.env.length > 0 || Object.keys(spec.grants.files).length > 0 || spec.grants.permissions.length > 0) {
    logger.warn('grants have no effect on http plugins: toolport itself makes the requests, and only to api.base_url\'s origin');
  }
  if (Object.keys(spec.settings).length > 0) logger.warn('settings have no effect on http plugins');

  let relationshipKey: Buffer | undefined;
  if (spec.relationshipToken === undefined) {
    try {
      // The config's or the shared state's key, so every replica derives the same tokens; else this installation's.
      relationshipKey = (await context.state?.sharedSecret('relationship')) ?? (await loadRelationshipKey(context.stateDir));
    } catch (error) {
      throw new ToolportError(ErrorCode.PluginLoadFailed, `${spec.path}: cannot prepare relationship tokens (${describeThrown(error)})`, { cause: error });
    }
  }
  // Principals are few (local, anonymous, one per configured token); keep their tokens.
  const relationshipTokens = new Map<string, string>();
  const relationshipFor = (principal: string): string => {
    if (spec.relationshipToken !== undefined) return spec.relationshipToken;
    let token = relationshipTokens.get(principal);
    if (token === undefined) {
      token = deriveRelationshipToken(relationshipKey as Buffer, manifest.name, principal);
      if (relationshipTokens.size < 10_000) relationshipTokens.set(principal, token);
    }
    return token;
  };

  const client = createEndpointClient(origin, timeouts, maxResponseBytes);
  const scrubber = secret === undefined ? undefined : createScrubber(secret);
  const escapedSecret = secret === undefined ? undefined : JSON.stringify(secret).slice(1, -1);
  let tools = toToolDefinitions(checked);
  const lifecycle = createPluginLifecycle(pluginId);

  // A manifest read again on a schedule: a change of its tools is applied at once (the
  // registry re-reads them; pinning decides whether clients see the change).
  let refreshing = false;
  const refresh = async (): Promise<void> => {
    if (refreshing || lifecycle.closed) return;
    refreshing = true;
    try {
      const next = await readChecked(spec, source, timeouts);
      if (lifecycle.closed) return;
      if (next.origin !== origin) {
        logger.error({ manifest: spec.path, origin, now: next.origin }, 'the refreshed manifest sends calls to another origin; it is ignored (restart toolport to accept it)');
        return;
      }
      const nextTools = toToolDefinitions(next);
      if (JSON.stringify(nextTools) === JSON.stringify(tools)) return;
      checked = next;
      tools = nextTools;
      logger.info({ manifest: spec.path, tools: tools.length }, 'the manifest changed; its tools are updated');
      context.toolsChanged();
    } catch (error) {
      logger.warn({ manifest: spec.path, err: error }, 'the manifest could not be refreshed; the tools read before are kept');
    } finally {
      refreshing = false;
    }
  };
  const timer = spec.refreshSeconds === undefined ? undefined : setInterval(() => void refresh(), spec.refreshSeconds * 1000);
  timer?.unref();

  async function send(tool: string, args: Record<string, unknown>, options: CallOptions, signal: AbortSignal): Promise<ToolOutcome> {
    const endpoint = checked.endpoints.get(tool);
    if (!endpoint) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown tool: ${tool}`, { pluginId });
    signal.throwIfAborted();
    // Only declared inputs travel, whatever else the caller put in the arguments.
    const data: Record<string, unknown> = {};
    for (const input of endpoint.inputs) {
      if (args[input.name] !== undefined) data[input.name] = args[input.name];
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': 'toolport',
    };
    // Carter sends inputs in the body even for GET; keep caches out of it.
    if (endpoint.method === 'GET') headers['cache-control'] = 'no-store';
    if (secret !== undefined) headers['x-carter-plugin-secret-token'] = secret;
    const body = JSON.stringify({ relationship_token: relationshipFor(options.context.principal), data });
    const started = performance.now();
    let answer: HttpAnswer;
    try {
      answer = await client.send({ method: endpoint.method, path: endpoint.requestPath, headers, body, signal });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const { reason, timeout } = describeHttpFailure(error, timeouts);
      throw new ToolportError(timeout ? ErrorCode.CallTimeout : ErrorCode.PluginCrashed, `${tool}: no answer from the plugin's API (${origin}): ${reason}`, {
        pluginId,
        cause: error,
      });
    }
    const ms = Math.round((performance.now() - started) * 1000) / 1000;
    logger.debug({ tool, method: endpoint.method, path: endpoint.requestPath, status: answer.status, ms }, 'plugin API answered');
    // Scrub only answers that contain the secret; most never do, and the check is cheap.
    const echoed =
      scrubber !== undefined &&
      answer.body !== 'too-large' &&
      (answer.body.includes(secret as string) || answer.body.includes(escapedSecret as string));
    if (echoed) logger.warn({ tool }, 'the plugin\'s API echoed the secret token in its answer; it was replaced with [redacted]');
    return toOutcome(answer, { endpoint, pluginId, maxBodyBytes: maxResponseBytes, scrub: echoed ? scrubber : identity });
  }

  return {
    id,
    kind: 'http',
    version: manifest.version,
    description: manifest.description_for_human,
    get tools() {
      return tools;
    },
    call: (tool, args, options) => lifecycle.run(tool, options, ({ signal }) => send(tool, args, options, signal)),
    close: () => {
      clearInterval(timer);
      return lifecycle.close(() => client.close());
    },
  };
}
