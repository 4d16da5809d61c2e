// Imports a JS or TS file given by path: module plugins and hook modules. TypeScript goes
// through tsx, loaded only when a .ts file is imported.
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';

export async function importModule(path: string): Promise<Record<string, unknown>> {
  const extension = extname(path).toLowerCase();
  if (extension === '.ts' || extension === '.mts' || extension === '.cts') {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}
