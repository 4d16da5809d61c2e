// The config file's shape (toolport.yaml / .json), validated with zod; also the source of
// the config's JSON Schema. Plugin blocks are checked against their kinds' specs.
import { z } from 'zod';
import { pluginBlockSchema } from '../adapters/plugin-blocks.js';
import type { PluginBlock } from '../core/plugin.js';
import { maxExposedNameLength, prefixModes } from '../core/naming.js';
import { approvalChannelNames } from '../policy/approval-types.js';
import { defaultPolicy, policySchema } from '../policy/decide.js';
import { eventsSchema } from '../policy/event-stream.js';
import { hookEntrySchema } from '../policy/hook-modules.js';
import { limitSchema } from '../policy/rate-limits.js';
import { defaultPins, pinsSchema } from '../policy/pins.js';

export const discoveryModes = ['list', 'search', 'auto'] as const;

/** How clients find tools: the whole list, or a few tools plus `search_tools`. */
export const discoverySchema = z.strictObject({
  /** `list`: tools/list shows every tool; `search`: the alwaysVisible ones and search_tools; `auto`: search above autoAbove tools. */
  mode: z.enum(discoveryModes).default('list'),
  /** In `auto` mode: search once a caller may see more tools than this. */
  autoAbove: z.number().int().min(0).max(1_000_000).default(100),
  /** Exposed tool names (globs) listed in search mode too. */
  alwaysVisible: z.array(z.string().min(1, 'must be a tool name or glob')).default([]),
});
export type DiscoveryConfig = z.output<typeof discoverySchema>;
const defaultDiscovery: DiscoveryConfig = { mode: 'list', autoAbove: 100, alwaysVisible: [] };

const tokenSchema = z.union([
  z.string().min(1, 'must not be empty'),
  z.strictObject({
    token: z.string().min(1, 'must not be empty'),
    principal: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'must be 1-64 letters, digits, _ . @ or -'),
    tools: z.array(z.string().min(1)).optional(),
  }),
]);

const loopbackHost = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** https, or http to a loopback host (a local test identity provider). */
const keyUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHost.test(url.hostname));
  } catch {
    return false;
  }
}, 'must be an https:// URL (http:// only on a loopback host)');

/** OAuth 2.1 resource-server mode: bearer JWTs checked against the issuer's keys. */
export const oauthSchema = z.strictObject({
  /** The authorization server; tokens must carry it as `iss`. */
  issuer: z.string().url('must be the URL of the authorization server'),
  /** What tokens for this server carry as `aud` (one value, or several accepted ones). */
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Where the issuer publishes its signing keys (JWKS). */
  jwksUrl: keyUrl,
  /** The public URL of the MCP endpoint, as clients reach it (default: from the request's Host). */
  resource: z.string().url('must be the public URL of the MCP endpoint, e.g. https://mcp.example.com/mcp').optional(),
  /** Scopes every token must carry; otherwise 403 insufficient_scope. */
  requiredScopes: z.array(z.string().min(1)).default([]),
  /** Tool globs per OAuth scope: a token sees the union of its scopes' tools. Without it, every tool. */
  scopeTools: z.record(z.string().min(1), z.array(z.string().min(1))).optional(),
  /** Signature algorithms accepted. */
  algorithms: z
    .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']))
    .min(1)
    .default(['RS256', 'PS256', 'ES256', 'EdDSA']),
  /** Leeway for exp/nbf/iat, for clocks that drift. */
  clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
});

const redisUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'redis:' || url.protocol === 'rediss:';
  } catch {
    return false;
  }
}, 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379 (or ${REDIS_URL})');

// The checks of `state.replica` and `state.keys` are refinements, which the JSON Schema leaves
// out: there the file as written is seen, and these values are usually `${VAR}`s.

/** A key every replica must share: at least 32 characters (e.g. `openssl rand -hex 32`). */
const sharedKey = z.string().refine((value) => value.length >= 32, 'must be at least 32 characters (openssl rand -hex 32)');
const replicaPattern = /^[A-Za-z0-9_-]{1,64}$/;

export const stateSchema = z.strictObject({
  redis: z
    .strictObject({
      /** redis://[user:password@]host:port[/db]; rediss:// for TLS. Redis ≥ 7 or Valkey. */
      url: redisUrl,
      /** Put in front of every key and channel, so deployments can share one Redis. */
      prefix: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits, _ . : or -').default('toolport:'),
    })
    .optional(),
  /** This process's name among the replicas (it is part of 2025-era session ids); default: random at each start. */
  replica: z
    .string()
    .refine((value) => replicaPattern.test(value), 'must be 1-64 letters, digits, _ or -')
    .optional(),
  /** Keys every replica shares; without them, the first replica makes them in Redis (or each process its own, in memory). */
  keys: z
    .strictObject({
      /** Signs the requestState of 2026-07-28 approval round trips. */
      requestState: sharedKey.optional(),
      /** Derives Carter relationship_tokens (http plugins without relationshipToken). */
      relationship: sharedKey.optional(),
    })
    .default({}),
});

const httpDefaults = {
  host: '127.0.0.1',
  port: 8808,
  allowedHosts: [],
  maxSessions: 1000,
  sessionIdleSeconds: 3600,
  auth: { tokens: [] },
};

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, _ . or -').default('toolport'),
      /** Tools (and prompts) per tools/list page: an ordinary catalogue comes in one round trip. */
      pageSize: z.number().int().min(1).max(100_000).default(1000),
      http: z
        .strictObject({
          host: z.string().min(1).default('127.0.0.1'),
          port: z.number().int().min(0).max(65_535).default(8808),
          /** Extra Host header names accepted besides loopback ones (for non-loopback binds). */
          allowedHosts: z.array(z.string().min(1)).default([]),
          /** 2025-era HTTP sessions and legacy SSE streams open at once, in all. */
          maxSessions: z.number().int().min(1).max(100_000).default(httpDefaults.maxSessions),
          /** Of those, how many one principal may hold; default a fair share (see the sessions module). */
          maxSessionsPerPrincipal: z.number().int().min(1).max(100_000).optional(),
          /** A session without a request for this long is closed. */
          sessionIdleSeconds: z.number().int().min(1).max(604_800).default(httpDefaults.sessionIdleSeconds),
          auth: z
            .strictObject({
              tokens: z.array(tokenSchema).default([]),
              oauth: oauthSchema.optional(),
            })
            .default({ tokens: [] }),
        })
        .refine((http) => http.maxSessionsPerPrincipal === undefined || http.maxSessionsPerPrincipal <= http.maxSessions, {
          path: ['maxSessionsPerPrincipal'],
          message: 'must not be more than server.http.maxSessions',
        })
        .default(httpDefaults),
    })
    .default({ name: 'toolport', pageSize: 1000, http: httpDefaults }),
  naming: z
    .strictObject({
      prefix: z.enum(prefixModes).default('always'),
      maxLength: z.number().int().min(16).max(maxExposedNameLength).default(maxExposedNameLength),
    })
    .default({ prefix: 'always', maxLength: maxExposedNameLength }),
  defaults: z
    .strictObject({
      /** Per call, unless the plugin block or the tool says otherwise. */
      timeoutSeconds: z.number().positive().max(86_400).default(30),
      /** Per plugin load; a plugin that takes longer is reported and the others are served. */
      loadTimeoutSeconds: z.number().positive().max(3_600).default(30),
      /** How deeply a call's arguments may nest. */
      maxArgumentDepth: z.number().int().min(1).max(10_000).default(64),
      /** How large a call's arguments may be, as JSON. */
      maxArgumentBytes: z.number().int().min(1024).max(1024 * 1024 * 1024).default(4 * 1024 * 1024),
    })
    .default({ timeoutSeconds: 30, loadTimeoutSeconds: 30, maxArgumentDepth: 64, maxArgumentBytes: 4 * 1024 * 1024 }),
  /** Plugin files, folders or URLs; each block takes the keys of its kind. */
  plugins: z.array(pluginBlockSchema).default([]),
  policy: policySchema.default(defaultPolicy),
  approvals: z
    .strictObject({
      /** How long a call waits in the out-of-band inbox (or for a prompt) before it is rejected. */
      timeoutSeconds: z.number().positive().max(86_400).default(120),
      /** Who may approve a call, in the order tried (a rule's `channels` overrides it). */
      channels: z.array(z.enum(approvalChannelNames)).min(1).default([...approvalChannelNames]),
      /** The admin endpoint for the inbox; without it, calls that need approval from clients that cannot prompt are refused. */
      admin: z
        .strictObject({
          token: z.string().min(16, 'must be at least 16 characters'),
          host: z.string().min(1).default('127.0.0.1'),
          port: z.number().int().min(0).max(65_535).default(8809),
        })
        .optional(),
    })
    .default({ timeoutSeconds: 120, channels: [...approvalChannelNames] }),
  audit: z
    .strictObject({
      path: z.string().min(1),
      /** Write argument values too (secrets are still scrubbed). */
      includeArguments: z.boolean().default(false),
    })
    .optional(),
  /** Token buckets and concurrency caps, checked before a plugin runs. */
  limits: z.array(limitSchema).default([]),
  /** Hook modules, loaded in order; their handlers run in registration order. */
  hooks: z.array(hookEntrySchema).default([]),
  events: eventsSchema.default({}),
  /** Tool-definition pinning: what happens when a tool's definition changes after it was pinned. */
  pins: pinsSchema.default(defaultPins),
  /** Listing every tool, or search for large catalogs. */
  discovery: discoverySchema.default(defaultDiscovery),
  /** OpenTelemetry traces; off unless an endpoint is set here or in OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT. */
  telemetry: z
    .strictObject({
      otlp: z
        .strictObject({
          /** Base URL of an OTLP/HTTP receiver (a collector); traces go to ENDPOINT/v1/traces. */
          endpoint: z.string().url('must be the base URL of an OTLP/HTTP receiver, e.g. http://127.0.0.1:4318').optional(),
          /** Headers sent with each export (e.g. an API key; kept out of logs). */
          headers: z.record(z.string().min(1), z.string()).optional(),
          /** The OTLP/HTTP encoding; default OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL, else http/protobuf. */
          protocol: z.enum(['http/protobuf', 'http/json'], { error: 'must be http/protobuf or http/json (toolport sends OTLP over HTTP)' }).optional(),
        })
        .optional(),
    })
    .default({}),
  /** Where state (and, in its `cache` folder, caches) is kept; default: the XDG folders of the user. */
  stateDir: z.string().min(1).optional(),
  /** State shared by several replicas behind one load balancer; without `redis`, each process keeps its own. */
  state: stateSchema.default({ keys: {} }),
});

/**
 * A validated config. Plugin blocks stay as written (paths resolved): their kind's spec
 * fills in its defaults once the kind is known.
 */
export type Config = Omit<z.output<typeof configSchema>, 'plugins'> & { plugins: PluginEntry[] };
export type ConfigInput = z.input<typeof configSchema>;
export type PluginEntry = PluginBlock;
export type TokenEntry = z.output<typeof tokenSchema>;
export type OAuthConfig = z.output<typeof oauthSchema>;
export type StateConfig = z.output<typeof stateSchema>;
