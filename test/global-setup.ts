/**
 * Once per test run, before any file:
 * - the web console build (dist/web) the console tests serve and drive, rebuilt only when its
 *   sources changed, so `npm install && npm test` passes from a fresh clone. Never built from src/.
 * - the migrated PGlite template every test app copies instead of creating and migrating its own
 *   database (test/helpers/pglite-template.ts), handed to the test files with `provide`.
 */
import type { TestProject } from 'vitest/node';
import { buildConsole } from '../scripts/lib/console/build.js';
import { preparePgliteTemplate } from './helpers/pglite-template.js';

export default async function setup(project: TestProject): Promise<void> {
  const [template] = await Promise.all([
    preparePgliteTemplate(),
    buildConsole({ ifStale: true, log: (line) => process.stderr.write(`${line}\n`) }),
  ]);
  project.provide('pgliteTemplate', template);
}
