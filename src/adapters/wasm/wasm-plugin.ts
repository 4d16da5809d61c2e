// The `wasm` kind: an Asterai plugin (a Wasm component importing asterai:host/api@0.1.0)
// served as MCP tools. Loading reads the component's WIT (cached by content hash with its
// jco transpile); calls run in sandboxed worker threads, one instance per worker.
import { open, readFile, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { ErrorCode, ToolportError, describeThrown, isToolportError } from '../../core/errors.js';
import { createPluginLifecycle } from '../../core/lifecycle.js';
import { assertPrivateDir } from '../../core/state-dir.js';
import type { Logger } from '../../core/logger.js';
import { textContent, type CallOptions, type ContentBlock, type ToolDefinition, type ToolOutcome } from '../../core/tool.js';
import type { AdapterContext, LoadedPlugin } from '../../core/plugin.js';
import type { WasmSpec } from './spec.js';
import { BinaryFormatError, capModuleMemory, detectBinaryKind, wasmPageBytes } from './binary.js';
import { loadCachedComponentFile } from './cache.js';
import type { ComponentDescription } from './describe.js';
import { exportKey, findUnknownImports, findWitSidecar, packageFromExports, readWitSidecar } from './plugin-wit.js';
import type { HostReply, HostRequest } from './host-api.js';
import { createRunner, type Runner } from './runner.js';
import type { PreopenGrant } from './sandbox.js';
import { createEmbeddingStore, createKvStore, createSharedKvStore } from './stores.js';
import { formatPackageName, parseInterfaceName, type PackageName } from './wit-parser.js';
import { describeFunction, toInputSchema, toOutputSchema } from './wit-schema.js';
import { findUnsupported, formatWitFunction, type ExportedFunction } from './wit-types.js';
import { wasmRuntime, type CompiledModule } from './wasm-global.js';
import { workerEntry } from './worker-entry.js';
import type { CallReply, WorkerExport } from './worker.js';



interface Tool {
  definition: ToolDefinition;
  worker: WorkerExport;
}

/** Tool names: WIT names as they are (kebab-case); interface functions as `iface/func`. */
function toolNameOf(item: ExportedFunction, shortNames: Map<string, number>): string {
  if (item.interface === undefined) return item.func.name;
  const parsed = parseInterfaceName(item.interface);
  const short = parsed?.interface ?? item.interface;
  // Two exported interfaces of the same short name (from different packages): use the full name.
  const prefix = (shortNames.get(short) ?? 0) > 1 ? item.interface : short;
  return `${prefix}/${item.func.name}`;
}

function whyNotATool(item: ExportedFunction): string | undefined {
  const { func } = item;
  if (func.name.startsWith('[')) return 'it belongs to a resource';
  if (func.async) return 'it is async (needs JSPI, which Node 20 lacks)';
  if (item.interface === undefined && func.name === 'init' && func.params.length === 4) return 'it is the JS engine initialiser of componentize-qjs';
  const bad = [...func.params.map((param) => findUnsupported(param.type)), func.result && findUnsupported(func.result)].find(Boolean);
  return bad ? `it uses ${bad}` : undefined;
}

/** `./data` is `/data` for the guest; an absolute path keeps its name. */
function toGuestPath(key: string): string {
  if (isAbsolute(key)) return normalize(key).split(sep).join('/');
  const parts = normalize(key)
    .split(sep)
    .filter((part) => part !== '' && part !== '.' && part !== '..');
  return `/${parts.join('/')}`;
}

/** The sandbox a plugin's grants describe; a granted folder that is missing fails the load. */
async function toSandbox(
  spec: WasmSpec,
  context: AdapterContext,
  logger: Logger,
  fail: (message: string) => ToolportError,
): Promise<{ env: Record<string, string>; preopens: PreopenGrant[] }> {
  const env: Record<string, string> = {};
  for (const name of spec.grants.env) {
    const value = process.env[name];
    if (value === undefined) logger.warn(`granted environment variable ${name} is not set`);
    else env[name] = value;
  }
  const preopens: PreopenGrant[] = [];
  for (const [key, mode] of Object.entries(spec.grants.files)) {
    const host = resolve(context.baseDir, key);
    const isFolder = await stat(host).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (!isFolder) throw fail(`grants.files["${key}"]: not a folder: ${host}`);
    preopens.push({ guest: toGuestPath(key), host, readOnly: mode === 'ro' });
  }
  return { env, preopens };
}

function textOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export async function loadWasmPlugin(spec: WasmSpec, context: AdapterContext): Promise<LoadedPlugin> {
  const fail = (message: string, cause?: unknown): ToolportError =>
    new ToolportError(ErrorCode.PluginLoadFailed, `${spec.path}: ${message}`, { cause });
  const unreadable = (error: unknown): ToolportError => {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'file not found' : `cannot read the file (${describeThrown(error)})`, error);
  };
  const checkKind = (bytes: Uint8Array): void => {
    const binaryKind = detectBinaryKind(bytes);
    if (binaryKind === 'module') {
      throw fail('this is a core Wasm module, not a component; build a component (componentize-js, cargo component, or wasm-tools component new)');
    }
    if (binaryKind === 'unknown') throw fail('not a Wasm component (the file does not start with the Wasm magic bytes and component version)');
  };
  // The header says what the file is; the whole file is read only when the cache has not seen it.
  try {
    const file = await open(spec.path);
    try {
      const header = new Uint8Array(8);
      const { bytesRead } = await file.read(header, 0, 8, 0);
      checkKind(header.subarray(0, bytesRead));
    } finally {
      await file.close();
    }
  } catch (error) {
    throw isToolportError(error) ? error : unreadable(error);
  }

  const stem = basename(spec.path, extname(spec.path));
  const cacheDir = resolve(context.baseDir, spec.cacheDir ?? join(context.cacheDir, 'wasm'));
  // Code from this folder is run: only a folder of this user's own will do.
  if (spec.cacheDir !== undefined) await assertPrivateDir(cacheDir, 'wasm cacheDir');
  const started = performance.now();
  let cached;
  try {
    cached = await loadCachedComponentFile(spec.path, cacheDir, async () => {
      const bytes = await readFile(spec.path).catch((error: unknown) => {
        throw unreadable(error);
      });
      checkKind(bytes);
      return bytes;
    });
  } catch (error) {
    if (isToolportError(error)) throw error;
    throw fail(`cannot read the component (${describeThrown(error).slice(0, 400)})`, error);
  }
  const loadMs = Math.round(performance.now() - started);
  const description: ComponentDescription = cached.meta.description;

  const unknown = findUnknownImports(description);
  if (unknown.length > 0) throw fail(`imports that toolport cannot provide: ${unknown.join('; ')}`);
  // Logs name the plugin as the config does, or by its file until its package is known.
  let logger = context.logger.child({ plugin: spec.id ?? stem });

  // The WIT beside the component: package, version and docs.
  let packageName: PackageName | undefined = packageFromExports(description);
  let pluginDescription: string | undefined;
  const documented = new Map<string, ExportedFunction>();
  const witPath = await findWitSidecar(spec.path, spec.wit === undefined ? undefined : resolve(context.baseDir, spec.wit));
  if (witPath) {
    try {
      const sidecar = await readWitSidecar(witPath, description);
      for (const problem of sidecar.mismatches) logger.warn(`${witPath} does not match the component: ${problem}`);
      if (sidecar.matched.size > 0 || description.exports.length === 0) {
        packageName = sidecar.package ?? packageName;
        pluginDescription = sidecar.docs;
        for (const [key, item] of sidecar.matched) documented.set(key, item);
      }
    } catch (error) {
      if (spec.wit !== undefined) throw fail(`wit: ${describeThrown(error)}`, error);
      logger.warn({ err: error }, `ignoring ${witPath}: ${describeThrown(error)}`);
    }
  }

  for (const name of description.unreadableInterfaces) {
    logger.warn(`exported interface ${name} is skipped: its types could not be read from the component`);
  }
  const shortNames = new Map<string, number>();
  for (const name of new Set(description.exports.flatMap((item) => (item.interface === undefined ? [] : [item.interface])))) {
    const short = parseInterfaceName(name)?.interface ?? name;
    shortNames.set(short, (shortNames.get(short) ?? 0) + 1);
  }
  const pluginLabel = packageName ? formatPackageName(packageName) : basename(spec.path);
  const tools = new Map<string, Tool>();
  for (const exported of description.exports) {
    const item = documented.get(exportKey(exported)) ?? exported;
    const skip = whyNotATool(item);
    const name = toolNameOf(item, shortNames);
    if (skip) {
      logger.warn(`function ${name} is not served as a tool: ${skip}`);
      continue;
    }
    const outputSchema = toOutputSchema(item.func);
    tools.set(name, {
      definition: {
        name,
        description: describeFunction(item.func, item.interface === undefined ? pluginLabel : `${item.interface} (${pluginLabel})`, item.interfaceDocs),
        inputSchema: toInputSchema(item.func),
        ...(outputSchema && { outputSchema }),
        meta: { 'toolport/wit': formatWitFunction(item.func) },
      },
      worker: { tool: name, ...(item.interface !== undefined && { interface: item.interface }), func: item.func },
    });
  }

  // The sandbox: only what the config grants.
  const sandbox = await toSandbox(spec, context, logger, fail);

  const pluginId = packageName?.name ?? stem;
  logger = context.logger.child({ plugin: spec.id ?? pluginId });
  logger.debug({ cache: cached.hit ? 'hit' : 'miss', dir: cached.dir, ms: loadMs }, 'wasm component loaded');
  const storeId = (spec.id ?? pluginId).replace(/[^A-Za-z0-9_-]/g, '_');
  const dataDir = resolve(context.baseDir, spec.dataDir ?? join(context.stateDir, 'wasm-data'));
  // With a shared state, every replica reads and writes the same key-value store.
  const kv = context.state?.shared ? createSharedKvStore(context.state, storeId) : createKvStore(join(dataDir, storeId, 'kv.json'));
  const embeddings = createEmbeddingStore(join(dataDir, storeId, 'embeddings.json'));
  const appId = typeof spec.settings.appId === 'string' ? spec.settings.appId : `toolport:${storeId}`;

  const serve = async (request: HostRequest): Promise<HostReply> => {
    switch (request.op) {
      case 'kv-get':
        return { ok: true, value: await kv.get(request.key, request.userId) };
      case 'kv-set':
        await kv.set(request.key, request.value, request.userId);
        return { ok: true, value: undefined };
      case 'embedding-store':
        await embeddings.store(request.content, request.collection);
        return { ok: true, value: undefined };
      case 'embedding-search':
        return { ok: true, value: await embeddings.search(request.query, request.collection) };
      case 'query-agent':
        return queryAgent(request);
    }
  };

  // The calls running now, by a token of ours (MCP request ids repeat across sessions),
  // so a guest's query-agent reaches the client of its own call.
  const running = new Map<string, CallOptions>();
  let nextToken = 0;

  /**
   * An MCP client is the agent here: query-agent asks its model (sampling), in every era (a
   * 2026-07-28 call ends with input_required and runs again with the answer; a client
   * without sampling ends the call with -32021, whatever the guest does with the error).
   */
  async function queryAgent(request: Extract<HostRequest, { op: 'query-agent' }>): Promise<HostReply> {
    const options = running.get(request.callId);
    if (!options) return { ok: false, error: `query-agent is not available outside a running call (no Asterai agent "${request.agentId}" here)` };
    try {
      const result = await options.client.sample({
        messages: [{ role: 'user', content: { type: 'text', text: request.query } }],
        systemPrompt: `A tool of the plugin ${pluginId} asks the agent "${request.agentId}" this question. Answer it directly.`,
        maxTokens: 1024,
      });
      const blocks = (Array.isArray(result.content) ? result.content : [result.content]) as { type: string; text?: string }[];
      return { ok: true, value: blocks.map((block) => (block.type === 'text' ? (block.text ?? '') : '')).join('') };
    } catch (error) {
      logger.debug({ err: error }, 'query-agent: the client did not answer now');
      return { ok: false, error: `query-agent failed: the client could not answer (${describeThrown(error).slice(0, 200)})` };
    }
  }

  const maxPages = spec.memoryLimitMb * (1024 * 1024 / wasmPageBytes);
  let runner: Runner | undefined;
  const getRunner = (): Runner => {
    runner ??= createRunner({
      pluginId,
      logger,
      instances: spec.instances,
      heapLimitMb: 256,
      serve,
      ...(context.report && { onRefusal: () => context.report?.('sandbox_refusal') }),
      async prepare() {
        const modules: Record<string, CompiledModule> = {};
        for (const name of cached.meta.coreModules) {
          const raw = await readFile(join(cached.dir, name));
          let capped: Uint8Array;
          try {
            capped = capModuleMemory(raw, maxPages).bytes;
          } catch (error) {
            if (error instanceof BinaryFormatError) throw new Error(`memoryLimitMb ${spec.memoryLimitMb} is too small: ${error.message}`, { cause: error });
            throw error;
          }
          modules[name] = await wasmRuntime.compile(capped);
        }
        return {
          entry: join(cached.dir, cached.meta.entry),
          modules,
          exports: [...tools.values()].map((tool) => tool.worker),
          sandbox: { ...sandbox, network: spec.grants.network, programName: pluginId },
          host: { env: sandbox.env },
        };
      },
    });
    return runner;
  };

  // Ready the worker code now (a no-op for builds; sources are compiled for tests).
  await workerEntry('worker');

  const lifecycle = createPluginLifecycle(pluginId);
  const definitions = [...tools.values()].map((tool) => tool.definition);

  return {
    id: pluginId,
    kind: 'wasm',
    ...(packageName?.version !== undefined && { version: packageName.version }),
    description: pluginDescription ?? `Asterai plugin ${pluginLabel} (Wasm component)`,
    tools: definitions,
    call: (tool, args, options) =>
      lifecycle.run(tool, options, async (call) => {
        const entry = tools.get(tool);
        if (!entry) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown tool: ${tool}`, { pluginId });
        const token = String(nextToken++);
        running.set(token, options);
        let reply: CallReply;
        try {
          reply = await getRunner().run({ tool, args, context: { callId: token, userId: options.context.principal, appId } }, call);
        } finally {
          running.delete(token);
        }
        return toOutcome(tool, reply, entry.definition.outputSchema !== undefined, pluginId);
      }),
    close: () => lifecycle.close(() => runner?.close()),
  };
}

/** What the guest answered, as MCP: the text sent with send-response-to-agent wins (as in Asterai). */
function toOutcome(tool: string, reply: CallReply, structured: boolean, pluginId: string): ToolOutcome {
  if (reply.kind === 'trap') {
    throw new ToolportError(ErrorCode.PluginCrashed, `${tool} failed: the Wasm plugin trapped (${reply.message.slice(0, 200)})`, { pluginId });
  }
  const content: ContentBlock[] = [];
  if (reply.response !== undefined) content.push(textContent(reply.response));
  if (reply.kind === 'err') {
    const text = textOf(reply.value ?? null);
    if (text !== undefined && text !== reply.response) content.push(textContent(text));
    return { content, isError: true };
  }
  if (reply.response === undefined) {
    const text = textOf(reply.value);
    if (text !== undefined) content.push(textContent(text));
  }
  return { content, ...(structured && { structuredContent: { result: reply.value } }) };
}
