import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    // Each test file builds its own app with its own database (PGlite in memory, or its own
    // PostgreSQL schema), so files can run in parallel without sharing state.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    setupFiles: ['test/setup.ts'],
    // Builds the web console into dist/web when missing or stale (scripts/lib/console/build.ts).
    globalSetup: ['test/global-setup.ts'],
  },
});
