import os from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The fault-injection scenarios kill their own services: `npm run test:faults` runs them.
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    environment: 'node',
    // Each test file builds its own app with its own database (PGlite in memory, or its own
    // PostgreSQL schema), so files can run in parallel without sharing state.
    pool: 'forks',
    // One worker per core. vitest's default leaves one core free (cores - 1): one worker on a
    // 2-core machine, half of it idle while a file waits for PGlite, a child process or Chromium.
    maxWorkers: Math.max(2, os.availableParallelism()),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Cheap argon2 parameters for the whole suite (test/helpers/argon2.ts).
    setupFiles: ['test/setup.ts'],
    // Builds the web console into dist/web when missing or stale (scripts/lib/console/build.ts) and
    // the migrated PGlite template every test app copies (test/helpers/pglite-template.ts).
    globalSetup: ['test/global-setup.ts'],
    // The default output, then the 10 slowest files (test/reporters/slowest-files.ts).
    reporters: ['default', './test/reporters/slowest-files.ts'],
  },
});
