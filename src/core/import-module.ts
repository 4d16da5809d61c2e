// Imports a JS or TS file given by path: module plugins and hook modules. TypeScript goes
// through tsx, loaded only when a .ts file is imported. A file that does not compile is
// reported with its file:line:column.
import { execFile } from 'node:child_process';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A module that could not be compiled, with where. */
export class ModuleSyntaxError extends Error {
  override readonly name = 'ModuleSyntaxError';
}

const typescript = new Set(['.ts', '.mts', '.cts']);

/**
 * Where a JavaScript file stops parsing. Node 20's import() does not say; `node --check`
 * prints `file:line`, the line, and a caret under the column.
 */
async function locateSyntaxError(path: string): Promise<string | undefined> {
  const output = await new Promise<string>((resolve) => {
    execFile(process.execPath, ['--check', path], { timeout: 10_000 }, (_error, _stdout, stderr) => resolve(stderr));
  });
  const match = /^(.*):(\d+)\n.*\n( *)\^/m.exec(output);
  return match ? `${match[1]}:${match[2]}:${(match[3]?.length ?? 0) + 1}` : undefined;
}

async function importTypeScript(path: string): Promise<Record<string, unknown>> {
  const { tsImport } = await import('tsx/esm/api');
  try {
    return (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
  } catch (error) {
    // esbuild's own words: "Transform failed with 1 error:\n/x.ts:2:23: ERROR: Unexpected "}""
    const first = /^(.+?:\d+:\d+): ERROR: (.*)$/m.exec((error as Error).message);
    if (first) throw new ModuleSyntaxError(`${first[1]}: ${first[2]}`, { cause: error });
    throw error;
  }
}

export async function importModule(path: string): Promise<Record<string, unknown>> {
  let namespace: Record<string, unknown>;
  if (typescript.has(extname(path).toLowerCase())) {
    namespace = await importTypeScript(path);
  } else {
    try {
      namespace = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      const where = await locateSyntaxError(path);
      throw where ? new ModuleSyntaxError(`${where}: ${error.name}: ${error.message}`, { cause: error }) : error;
    }
  }
  // A .ts file without "type": "module" near it is compiled as CommonJS; its exports then
  // sit under `default`, marked __esModule.
  const inner = namespace.default as { __esModule?: unknown } | undefined;
  if (typeof inner === 'object' && inner !== null && inner.__esModule === true) {
    return inner;
  }
  return namespace;
}
