// The library entry: embed toolport in your own program.
export { createToolport, type Toolport, type ToolportOptions, type ToolCallOptions, type RegisterToolOptions } from './toolport.js';
export type {
  HookBus,
  HookContext,
  HookEvent,
  HookEventMap,
  HookEventName,
  HookHandler,
  HookOptions,
  ListChangedEvent,
  MessageEvent,
  PinChangedEvent,
  SessionEndEvent,
  SessionStartEvent,
  ToolCallEvent,
  ToolErrorEvent,
  ToolResultEvent,
} from './policy/hooks.js';
export type { HookHost } from './policy/hook-modules.js';
export type { HostTool, HostToolContext } from './core/host-tools.js';
export { loadConfigFile, parseConfig } from './config/load.js';
export type { Config, ConfigInput } from './config/schema.js';
export { createServerHub, type ServerHub } from './server/mcp-server.js';
export { serveHttp, type HttpHandle, type HttpOptions } from './server/http.js';
export { serveOverStdio, type StdioHandle } from './server/stdio.js';
export { ToolportError, RateLimitedError, ErrorCode } from './core/errors.js';
export { retryAfterMetaKey } from './core/to-mcp-result.js';
export { createLogger } from './core/logger.js';
export type { ToolDefinition, ToolOutcome, CallOptions, CallContext } from './core/tool.js';
export type { ModulePluginHost, ModuleToolContext } from './adapters/module/index.js';
