/**
 * Start-up as a user sees it: whole processes, from spawn to the first 200 from /health/ready.
 *
 *   npm run bench:startup [-- --runs 5]
 *
 * Variants, measured in one run and interleaved so the machine's noise hits them alike:
 *   - `node dist/server.js`       the baseline (what the Dockerfile runs)
 *   - `npm start`, dist up to date  the second start: the incremental build finds nothing to do
 *   - `npm start`, no dist          the first start on a fresh clone: a full build (measured once)
 * Goal (issue 14): a second `npm start` is ready within 2x of `node dist/server.js`.
 * Every variant starts on a fresh DATA_DIR (embedded defaults), so each pays the same first-boot work.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, markdownTable } from './harness.js';

const root = path.resolve(import.meta.dirname, '..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

async function readyAfter(command: string, args: string[]): Promise<number> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-bench-start-'));
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: root,
    detached: true, // its own process group: npm's child node process is stopped with it
    stdio: 'ignore',
    env: { ...process.env, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' },
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    for (;;) {
      if (exited) throw new Error(`${command} ${args.join(' ')} exited before it was ready`);
      if (performance.now() - started > 120_000) throw new Error('not ready within 120 s');
      const ok = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    if (child.pid && !exited) {
      const gone = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid, 'SIGTERM');
      await gone;
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

await rm(path.join(root, 'dist'), { recursive: true, force: true });
const cold = await readyAfter('npm', ['start']); // builds dist/ from nothing
const node: number[] = [];
const warm: number[] = [];
for (let i = 0; i < runs; i++) {
  node.push(await readyAfter('node', ['dist/server.js']));
  warm.push(await readyAfter('npm', ['start']));
}
const base = median(node);
const row = (name: string, ms: number, goal: string) => [
  name,
  `${(ms / 1000).toFixed(2)} s`,
  `${(ms / base).toFixed(2)}x`,
  goal,
];
console.log(`start-up to /health/ready, median of ${runs} runs (first start: 1 run)\n`);
console.log(
  markdownTable(
    ['variant', 'ready after', 'ratio', 'goal'],
    [
      row('node dist/server.js', base, 'baseline'),
      row('npm start (dist up to date)', median(warm), '<= 2.00x'),
      row('npm start (fresh clone, no dist)', cold, ''),
    ],
  ),
);
