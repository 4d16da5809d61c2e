// Carter's relationship_token when the config sets none: a stable per-principal value,
// HMAC-SHA256 over the plugin's `name` and the MCP principal, keyed by a random key kept
// in the state folder. The key keeps tokens unguessable and distinct between installations.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const keyPattern = /^[0-9a-f]{64}$/;

/** Reads the installation key from `stateDir/http/relationship.key`, creating it on first use. */
export async function loadRelationshipKey(stateDir: string): Promise<Buffer> {
  const folder = join(stateDir, 'http');
  const file = join(folder, 'relationship.key');
  await mkdir(folder, { recursive: true, mode: 0o700 });
  try {
    // `wx`: two toolport processes starting together must not both write a key.
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const text = (await readFile(file, 'utf8')).trim();
  if (!keyPattern.test(text)) {
    throw new Error(`${file} is not a relationship key (64 hex digits); delete it to make a new one (every derived relationship_token will change)`);
  }
  return Buffer.from(text, 'hex');
}

/** The relationship_token of one principal for one plugin: 64 hex digits, the same on every call. */
export function deriveRelationshipToken(key: Buffer, pluginName: string, principal: string): string {
  return createHmac('sha256', key).update(`carter-relationship\u0000${pluginName}\u0000${principal}`).digest('hex');
}
