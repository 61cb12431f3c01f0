/**
 * `npm run build` (always) and `npm start` (`--if-stale`: only when web/console changed since the
 * last build) build the web console into dist/web. See scripts/lib/console/build.ts.
 */
import { buildConsole } from './lib/console/build.js';

const ifStale = process.argv.includes('--if-stale');
const started = Date.now();
const result = await buildConsole({ ifStale, log: (line) => process.stdout.write(`${line}\n`) });
if (result === 'built') process.stdout.write(`web console built in ${Date.now() - started} ms\n`);
