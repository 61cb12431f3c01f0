/**
 * Once per test run, before any file: the web console build (dist/web) the console tests serve
 * and drive, rebuilt only when its sources changed, so `npm install && npm test` passes from a
 * fresh clone. Never built from src/.
 */
import { buildConsole } from '../scripts/lib/console/build.js';

export default async function setup(): Promise<void> {
  await buildConsole({ ifStale: true, log: (line) => process.stderr.write(`${line}\n`) });
}
