// The server instructions of one client session: each plugin that offers them contributes a
// part, computed for that session, joined in config order. A plugin that fails or takes
// too long is left out (and logged); the others still count.
import { createDeadline } from '../core/abort.js';
import type { Logger } from '../core/logger.js';
import { offersInstructions } from '../core/plugin.js';
import type { SessionInfo } from '../core/prompt.js';
import type { RegisteredPlugin } from '../core/registry.js';

/** A plugin that takes longer than this for its share of the instructions is left out. */
const instructionsTimeoutMs = 5_000;

export async function computeInstructions(
  plugins: readonly RegisteredPlugin[],
  session: SessionInfo,
  options: { shutdown: AbortSignal; signal?: AbortSignal | undefined; logger: Logger },
): Promise<string | undefined> {
  const sources = plugins.flatMap((entry) => (offersInstructions(entry.plugin) ? [{ id: entry.id, plugin: entry.plugin }] : []));
  if (sources.length === 0 || options.shutdown.aborted) return undefined;
  const limit = createDeadline(instructionsTimeoutMs, () => new Error('instructions took too long'), options.shutdown, options.signal);
  try {
    const texts = await Promise.all(
      sources.map(async ({ id, plugin }) => {
        try {
          const text = await plugin.instructions(session, limit.signal);
          return text?.trim() ? text.trim() : undefined;
        } catch (error) {
          options.logger.warn({ plugin: id, err: error }, 'plugin instructions failed; left out');
          return undefined;
        }
      }),
    );
    const parts = texts.filter((text): text is string => text !== undefined);
    return parts.length > 0 ? parts.join('\n\n') : undefined;
  } finally {
    limit.dispose();
  }
}
