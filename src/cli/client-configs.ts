// The lines that connect MCP clients to toolport, as `serve --http` and `init` print them:
// each one works when copied as printed (absolute paths, and the launcher toolport was
// started through, if it needs one).
import { resolve } from 'node:path';

export interface StdioLaunch {
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * How a client starts `toolport serve ... --stdio` with these arguments. A wrapper that
 * toolport needs around it (the example's API launcher) names itself in TOOLPORT_LAUNCHER
 * as a JSON list: its program and arguments, to which toolport's command line is appended.
 */
export function toStdioLaunch(binPath: string, serveArgs: readonly string[], env: NodeJS.ProcessEnv = process.env): StdioLaunch {
  const own = [process.execPath, binPath, 'serve', ...serveArgs, '--stdio'];
  let launcher: unknown;
  try {
    launcher = env.TOOLPORT_LAUNCHER ? JSON.parse(env.TOOLPORT_LAUNCHER) : undefined;
  } catch {
    launcher = undefined;
  }
  const wrapper = Array.isArray(launcher) && launcher.length > 0 && launcher.every((part) => typeof part === 'string') ? launcher : [];
  const [command, ...args] = [...wrapper, ...own];
  return { command: command ?? process.execPath, args };
}

/** `serve` arguments that mean the same from any working directory. */
export function absoluteServeArgs(paths: readonly string[], configFile: string | undefined): string[] {
  return [...paths.map((path) => (/^https?:\/\//i.test(path) ? path : resolve(path))), ...(configFile ? ['--config', resolve(configFile)] : [])];
}

/** One shell word (POSIX sh), quoted only when it must be. */
export const quote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/** The client lines for a stdio launch and, when toolport listens on HTTP, its URL. */
export function clientConfigLines(stdio: StdioLaunch, url?: string): string[] {
  const desktop = { mcpServers: { toolport: { command: stdio.command, args: stdio.args } } };
  const lines = [];
  if (url) {
    lines.push(
      `  Claude Code (HTTP):   claude mcp add --transport http toolport ${url}/mcp`,
      `  .mcp.json (HTTP):     ${JSON.stringify({ mcpServers: { toolport: { type: 'http', url: `${url}/mcp` } } })}`,
    );
  }
  lines.push(
    `  Claude Code (stdio):  claude mcp add toolport -- ${[stdio.command, ...stdio.args].map(quote).join(' ')}`,
    '  Claude Desktop (stdio, in claude_desktop_config.json):',
    `                        ${JSON.stringify(desktop)}`,
  );
  return lines;
}
