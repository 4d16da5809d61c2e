// Small file-system questions asked in several places.
import { stat } from 'node:fs/promises';

/** Whether something (a file or a folder) is at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
