import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: the fault-injection scenarios (test/faults/). Separate from `npm test`:
 * they start and kill their own PostgreSQL, server processes and load, one scenario at a time.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 240_000,
    setupFiles: ['test/setup.ts'],
    reporters: ['default'],
  },
});
