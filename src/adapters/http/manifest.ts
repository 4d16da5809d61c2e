// Carter plugin manifests: read from a file or URL, checked against the shipped JSON
// Schema plus the rules a schema cannot state, and turned into tool definitions.
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { Agent, redirect, request } from './undici.js';
import { formatPath, isUrl } from '../../core/format.js';
import { addFormats, ajv2020 } from '../../core/schema.js';
import type { ToolDefinition } from '../../core/tool.js';
import manifestSchema from './carter-manifest.schema.json' with { type: 'json' };
import { describeHttpFailure, readCappedBody, type HttpTimeouts } from './transport.js';

export type InputType = 'string' | 'number' | 'boolean';
export type OutputType = InputType | 'object';

export interface CarterInput {
  name: string;
  type: InputType;
  required: boolean;
  description: string;
  example?: string | number | boolean;
}

export interface CarterOutput {
  name: string;
  type: OutputType;
  description: string;
  example: unknown;
}

export interface CarterEndpoint {
  name: string;
  description?: string;
  path: string;
  method?: 'GET' | 'POST';
  input: CarterInput[];
  output: CarterOutput[];
}

export interface CarterManifest {
  manifest_version: '1';
  developer_id: string;
  version: string;
  name: string;
  name_for_human: string;
  name_for_machine: string;
  description_for_human: string;
  description_for_machine: string;
  author_name: string;
  contact_email: string;
  api: { base_url: string; endpoints: CarterEndpoint[] };
}

/** An endpoint ready to call: its method and the path on the base_url origin. */
export interface PreparedEndpoint {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  /** Path and query on the origin, e.g. `/api/current`. */
  readonly requestPath: string;
  readonly inputs: readonly CarterInput[];
  readonly outputs: ReadonlyMap<string, OutputType>;
}

export interface CheckedManifest {
  readonly manifest: CarterManifest;
  /** The base_url's origin; the only one toolport ever calls for this plugin. */
  readonly origin: string;
  readonly endpoints: ReadonlyMap<string, PreparedEndpoint>;
  /** Things that do not stop the plugin but the user should fix (unknown keys, the doc typo). */
  readonly warnings: readonly string[];
}

/** Thrown for a manifest that cannot be used; `problems` are `path: what was expected` lines. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(problems.length > 0 ? `${message}:\n  ${problems.join('\n  ')}` : message);
  }
}

/** Manifests are small; anything bigger is not one. */
export const maxManifestBytes = 1024 * 1024;
const maxListedProblems = 25;

let validateManifest: ValidateFunction | undefined;

/**
 * The ajv set-up the manifest schema is compiled with. The build compiles it once into
 * `manifest-validate.cjs` beside this file (`scripts/build-validators.mjs`, with
 * `standalone`), which saves every start-up that loads an HTTP plugin 60–250 ms of ajv code
 * generation; without that file (running from the sources) it is compiled here.
 */
export function compileManifestValidator(standalone = false): { ajv: Ajv2020; validate: ValidateFunction } {
  // verbose: errors carry the failing schema, whose "x-expected" phrases the rule.
  const Ajv = ajv2020();
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, ...(standalone && { code: { source: true } }) });
  ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
  addFormats(ajv);
  return { ajv, validate: ajv.compile(manifestSchema) };
}

function manifestValidator(): ValidateFunction {
  if (!validateManifest) {
    try {
      const require = createRequire(import.meta.url);
      validateManifest = (require('./manifest-validate.cjs') as { default: ValidateFunction }).default;
    } catch {
      validateManifest = compileManifestValidator().validate;
    }
  }
  return validateManifest;
}

/** `api.endpoints[0].input[1].type` from the JSON pointer `/api/endpoints/0/input/1/type`. */
function toDotPath(pointer: string, extra?: string): string {
  const parts: PropertyKey[] = pointer === '' ? [] : pointer.slice(1).split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  return formatPath(parts.map((part) => (typeof part === 'string' && /^(0|[1-9][0-9]*)$/.test(part) ? Number(part) : part)));
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function toProblem(error: ErrorObject): string | undefined {
  // The if/then pairs only select which rule applies; the failing rule reports itself.
  if (error.keyword === 'if') return undefined;
  if (error.keyword === 'required') {
    return `${toDotPath(error.instancePath, String(error.params.missingProperty))}: required, but missing`;
  }
  const where = toDotPath(error.instancePath);
  const schema = error.parentSchema;
  const expected = typeof schema?.['x-expected'] === 'string' ? schema['x-expected'] : error.message;
  if ((error.keyword === 'minItems' || error.keyword === 'maxItems') && Array.isArray(error.data)) {
    return `${where}: expected ${expected}, found ${error.data.length}`;
  }
  return `${where}: expected ${expected}, got ${describeValue(error.data)}`;
}

const knownKeys = {
  top: new Set([
    'manifest_version', 'developer_id', 'version', 'name', 'name_for_human', 'name_for_machine',
    'description_for_human', 'description_for_machine', 'author_name', 'contact_email', 'api',
  ]),
  api: new Set(['base_url', 'endpoints']),
  endpoint: new Set(['name', 'description', 'path', 'method', 'input', 'output']),
  input: new Set(['name', 'type', 'required', 'description', 'example']),
  output: new Set(['name', 'type', 'description', 'example']),
};

function unknownKeys(value: object, known: ReadonlySet<string>, where: string): string[] {
  return Object.keys(value)
    .filter((key) => !known.has(key))
    .map((key) => `${where === '' ? key : `${where}.${key}`}: not a Carter manifest key (ignored)`);
}

function duplicates(names: readonly string[], where: (index: number) => string, what: string): string[] {
  const first = new Map<string, number>();
  const problems: string[] = [];
  names.forEach((name, index) => {
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, index);
    else problems.push(`${where(index)}.name: "${name}" is already the name of ${where(earlier)}; ${what} names must be unique`);
  });
  return problems;
}

/** Joins base_url and an endpoint path the way a plain concatenation would, without a double slash. */
function joinUrl(base: URL, path: string): URL {
  const basePath = base.pathname.replace(/\/+$/, '');
  return new URL(`${base.origin}${basePath}${path}`);
}

/**
 * Checks a parsed manifest. Throws a ManifestError listing every problem with its path;
 * returns the manifest with its endpoints prepared for calls otherwise.
 */
export function checkManifest(raw: unknown): CheckedManifest {
  const warnings: string[] = [];
  let value = raw;
  // Carter's own field table misspells this key; a manifest written from the table still loads.
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    if (record.description_for_machine === undefined && typeof record.desscription_for_machine === 'string') {
      const { desscription_for_machine: description, ...rest } = record;
      value = { ...rest, description_for_machine: description };
      warnings.push('desscription_for_machine: read as description_for_machine (the spelling in Carter\'s field table is a typo; rename the key)');
    }
  }

  const validate = manifestValidator();
  if (!validate(value)) {
    const problems = [...new Set((validate.errors ?? []).map(toProblem).filter((line): line is string => line !== undefined))];
    throw new ManifestError('invalid Carter manifest', limitProblems(problems));
  }
  const manifest = value as CarterManifest;
  const problems: string[] = [];

  let base: URL | undefined;
  try {
    base = new URL(manifest.api.base_url);
  } catch {
    problems.push(`api.base_url: expected an absolute http(s) URL, got ${describeValue(manifest.api.base_url)}`);
  }
  if (base) {
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      problems.push(`api.base_url: expected an http(s) URL, got ${describeValue(manifest.api.base_url)}`);
    }
    // Credentials in the URL would end up in logs and messages; the secret token is the way to authenticate.
    if (base.username !== '' || base.password !== '') problems.push('api.base_url: must not contain a user name or password');
    if (base.search !== '' || base.hash !== '') problems.push('api.base_url: must not contain a query (?...) or fragment (#...)');
  }

  const endpoints = manifest.api.endpoints;
  problems.push(...duplicates(endpoints.map((endpoint) => endpoint.name), (index) => `api.endpoints[${index}]`, 'endpoint'));
  const prepared = new Map<string, PreparedEndpoint>();
  endpoints.forEach((endpoint, index) => {
    const where = `api.endpoints[${index}]`;
    problems.push(...duplicates(endpoint.input.map((input) => input.name), (i) => `${where}.input[${i}]`, 'input'));
    problems.push(...duplicates(endpoint.output.map((output) => output.name), (i) => `${where}.output[${i}]`, 'output'));
    warnings.push(...unknownKeys(endpoint, knownKeys.endpoint, where));
    endpoint.input.forEach((input, i) => warnings.push(...unknownKeys(input, knownKeys.input, `${where}.input[${i}]`)));
    endpoint.output.forEach((output, i) => warnings.push(...unknownKeys(output, knownKeys.output, `${where}.output[${i}]`)));
    if (!base) return;
    let url: URL;
    try {
      url = joinUrl(base, endpoint.path);
    } catch {
      problems.push(`${where}.path: does not form a valid URL with api.base_url`);
      return;
    }
    // Only the base_url origin is ever called: a path such as "@evil.example/x" must not move the request.
    if (url.origin !== base.origin) {
      problems.push(`${where}.path: leads away from the api.base_url origin (${base.origin}); the path must stay on it`);
      return;
    }
    if (!prepared.has(endpoint.name)) {
      prepared.set(endpoint.name, {
        name: endpoint.name,
        method: endpoint.method ?? 'POST',
        requestPath: `${url.pathname}${url.search}`,
        inputs: endpoint.input,
        outputs: new Map(endpoint.output.map((output) => [output.name, output.type])),
      });
    }
  });
  warnings.push(...unknownKeys(manifest, knownKeys.top, ''), ...unknownKeys(manifest.api, knownKeys.api, 'api'));
  if (problems.length > 0) throw new ManifestError('invalid Carter manifest', limitProblems(problems));
  return { manifest, origin: base?.origin ?? '', endpoints: prepared, warnings };
}

function limitProblems(problems: string[]): string[] {
  if (problems.length <= maxListedProblems) return problems;
  return [...problems.slice(0, maxListedProblems), `... and ${problems.length - maxListedProblems} more`];
}

/** Reads the manifest text from a file or an http(s) URL (fetched without the secret header, as Carter does). */
export async function readManifestText(path: string, timeouts: HttpTimeouts, signal?: AbortSignal): Promise<string> {
  const text = isUrl(path) ? await fetchManifest(path, timeouts, signal) : await readManifestFile(path);
  // A UTF-8 byte order mark is not JSON, but editors write it.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

async function readManifestFile(path: string): Promise<string> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ManifestError('is not a file');
    if (info.size > maxManifestBytes) throw new ManifestError(`is ${info.size} bytes; a manifest may be at most ${maxManifestBytes}`);
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ManifestError(code === 'ENOENT' ? 'file not found' : `cannot read the manifest (${code ?? (error as Error).message})`);
  }
}

async function fetchManifest(url: string, timeouts: HttpTimeouts, signal?: AbortSignal): Promise<string> {
  // Following a few redirects is safe here: no secret travels with the manifest request.
  const agent = new Agent({ connectTimeout: timeouts.connectMs, headersTimeout: timeouts.headersMs, bodyTimeout: timeouts.bodyMs }).compose(
    redirect({ maxRedirections: 5 }),
  );
  const target = new URL(url);
  try {
    const response = await request(agent, {
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'toolport' },
      ...(signal && { signal }),
    });
    const body = await readCappedBody(response, maxManifestBytes);
    if (body === 'too-large') throw new ManifestError(`the manifest at this URL is larger than ${maxManifestBytes} bytes`);
    if (response.statusCode < 200 || response.statusCode > 299) {
      throw new ManifestError(`fetching the manifest answered HTTP ${response.statusCode}`);
    }
    return body.toString('utf8');
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    throw new ManifestError(`cannot fetch the manifest: ${describeHttpFailure(error, timeouts).reason}`);
  } finally {
    await agent.close().catch(() => {});
  }
}

/** Parses manifest text, naming the position of a JSON syntax error. */
export function parseManifestText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ManifestError(`is not valid JSON (${(error as Error).message})`);
  }
}

function exampleFor(output: CarterOutput): unknown {
  if (output.type !== 'object') return typeof output.example === output.type ? output.example : undefined;
  if (typeof output.example === 'object' && output.example !== null && !Array.isArray(output.example)) return output.example;
  if (typeof output.example !== 'string') return undefined;
  try {
    const parsed = JSON.parse(output.example) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** One tool per endpoint; input examples stay out of the schema (Carter warns agents copy them). */
export function toToolDefinitions(checked: CheckedManifest): ToolDefinition[] {
  const { manifest } = checked;
  const pluginLine = `Part of the ${manifest.name_for_human} plugin: ${manifest.description_for_machine}`.trim();
  return manifest.api.endpoints.map((endpoint) => {
    const properties: Record<string, Record<string, unknown>> = {};
    for (const input of endpoint.input) {
      properties[input.name] = { type: input.type, ...(input.description !== '' && { description: input.description }) };
    }
    const required = endpoint.input.filter((input) => input.required).map((input) => input.name);
    const outputs: Record<string, Record<string, unknown>> = {};
    for (const output of endpoint.output) {
      const example = exampleFor(output);
      outputs[output.name] = {
        type: output.type,
        ...(output.description !== '' && { description: output.description }),
        ...(example !== undefined && { examples: [example] }),
      };
    }
    const description = [endpoint.description?.trim(), pluginLine].filter((part) => part !== undefined && part !== '').join('\n\n');
    return {
      name: endpoint.name,
      description,
      inputSchema: {
        type: 'object',
        properties,
        ...(required.length > 0 && { required }),
        additionalProperties: false,
      },
      outputSchema: { type: 'object', properties: outputs, additionalProperties: false },
      annotations: { openWorldHint: true },
    };
  });
}
