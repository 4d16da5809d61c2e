// The progress of one call in phases: first the wait for an approval (seconds waited of
// the approval's time limit), then the plugin's own progress. Each phase counts from 0 in
// its own units; the client sees one sequence that keeps increasing, each phase starting
// where the last one stopped, with a total its progress bar can show.
import type { ProgressReporter } from './tool.js';

/** The reporter of a call nobody follows the progress of (one for all of them). */
export const noProgress: ProgressReporter = () => {};
const noPhases = (): ProgressReporter => noProgress;

/** Returns the reporter for the next phase each time it is called. */
export function createProgressPhases(report: ProgressReporter | undefined): () => ProgressReporter {
  if (report === undefined || report === noProgress) return noPhases;
  let top = -Infinity;
  return () => {
    const base = Math.max(top, 0);
    return (progress, total, message) => {
      const value = base + progress;
      if (!Number.isFinite(value) || value <= top) return;
      top = value;
      report(value, total === undefined ? undefined : base + total, message);
    };
  };
}
