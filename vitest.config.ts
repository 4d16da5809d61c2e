import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A state folder per test file (tool pins must not leak between files or runs).
    setupFiles: ['test/helpers/isolated-state.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Spawned servers and subprocesses compete for 2 cores; keep file-level parallelism modest.
    maxWorkers: 2,
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
