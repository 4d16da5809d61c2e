// How a plugin's Python host is started: in a bubblewrap sandbox of its own (core/sandbox.ts)
// that shows it its folder, toolport's host files, the interpreter's installation and its
// grants, or, where the config says `sandbox: off`, as a plain process with a loud warning.
import { dirname } from 'node:path';
import { describeThrown, ErrorCode, ToolportError } from '../../core/errors.js';
import type { PluginDiagnostic } from '../../core/plugin.js';
import { describeMissingSandbox, detectSandbox, locateSandbox, sandboxOffWarning, toSandbox, type FileAccess, type Sandbox, type SandboxSetting, type SandboxSupport } from '../../core/sandbox.js';
import { loadInterpreter, type Interpreter } from './interpreter.js';

export interface IsolationRequest {
  readonly setting: SandboxSetting;
  readonly python: string;
  readonly hostScript: string;
  /** The plugin's folder (the package, or the file's folder): the host's working folder. */
  readonly cwd: string;
  readonly files: Readonly<Record<string, FileAccess>>;
  readonly network: boolean;
  readonly subprocess: boolean;
  /** Where the interpreter's answer is kept across starts (see interpreter.ts). */
  readonly cacheDir?: string;
}

export interface Isolation {
  /** The program and its leading arguments; the host script follows. */
  readonly command: readonly [string, ...string[]];
  readonly sandbox: Sandbox | undefined;
  readonly diagnostics: readonly PluginDiagnostic[];
  /**
   * Set when the interpreter's answer came from an earlier start: resolves with the isolation
   * for the interpreter there is now if that differs (its host must be started again), else undefined.
   */
  readonly changed?: Promise<Isolation | undefined>;
  /**
   * With a sandbox: runs bwrap once (the first call; later calls share its answer) and settles
   * once it was seen to work here, or rejects with the plugin's load error when it cannot make
   * a sandbox. The command is known before that, so a host can start meanwhile; the plugin is
   * imported only after this, or after a host started early answered (it already runs in the
   * sandbox: bwrap works).
   */
  readonly confirm?: () => Promise<void>;
}

/** The message for an interpreter that cannot be started. */
export function describeMissingPython(python: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'not found' : describeThrown(error);
  return `cannot start the Python interpreter "${python}" (${why}); install Python 3.9 or newer, or set "python:" in this plugin's config`;
}

export async function loadIsolation(request: IsolationRequest): Promise<Isolation> {
  if (request.setting === 'off') return { command: [request.python], sandbox: undefined, diagnostics: [{ level: 'warning', message: sandboxOffWarning }] };
  const missing = (reason: string): ToolportError => new ToolportError(ErrorCode.PluginLoadFailed, describeMissingSandbox(reason, 'Python plugins'));
  const support = locateSandbox();
  if (!support.available) throw missing(support.reason);
  // bwrap is run only when asked: a host started early proves it works by answering.
  let confirmed: Promise<void> | undefined;
  const confirm = (): Promise<void> =>
    (confirmed ??= detectSandbox().then((probed) => {
      if (!probed.available) throw missing(probed.reason);
    }));
  let known;
  try {
    known = await loadInterpreter(request.python, request.cacheDir);
  } catch (error) {
    // A sandbox that cannot work is the first thing to fix.
    await confirm();
    throw new ToolportError(ErrorCode.PluginLoadFailed, describeMissingPython(request.python, error), { cause: error });
  }
  const isolation = { ...isolate(request, support, known.interpreter), confirm };
  if (!known.changed) return isolation;
  return { ...isolation, changed: known.changed.then((fresh) => (fresh ? { ...isolate(request, support, fresh), confirm } : undefined)) };
}

function isolate(request: IsolationRequest, support: Extract<SandboxSupport, { available: true }>, interpreter: Interpreter): Isolation {
  const sandbox = toSandbox(support, {
    cwd: request.cwd,
    readOnly: [
      { path: request.cwd },
      { path: dirname(request.hostScript), label: "toolport's Python host" },
      ...interpreter.folders.map((path) => ({ path, label: 'Python' })),
    ],
    files: request.files,
    network: request.network,
  });
  const programs = request.subprocess ? 'allowed (allowSubprocess: true)' : 'refused';
  return {
    command: [...sandbox.prefix, interpreter.executable],
    sandbox,
    diagnostics: [{ level: 'info', message: `${sandbox.description}; starting programs: ${programs}` }],
  };
}
