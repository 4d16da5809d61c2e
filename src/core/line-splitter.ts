// Splits a text stream into lines as chunks arrive, for child processes' and workers' output.

/** Splits a text stream into lines, calling `onLine` for each complete one. */
export function createLineSplitter(onLine: (line: string) => void): { push(chunk: string): void; end(): void } {
  let buffer = '';
  return {
    push(chunk) {
      // Search only the new chunk: a long line arriving in many chunks stays linear.
      let newline = chunk.indexOf('\n');
      if (newline === -1) {
        buffer += chunk;
        return;
      }
      let start = 0;
      while (newline !== -1) {
        onLine(buffer + chunk.slice(start, newline));
        buffer = '';
        start = newline + 1;
        newline = chunk.indexOf('\n', start);
      }
      buffer = chunk.slice(start);
    },
    end() {
      if (buffer.length > 0) onLine(buffer);
      buffer = '';
    },
  };
}
