/**
 * `npm run bench:monitoring`: the request path with the detection rules on vs off, in one run.
 *
 * Detection runs off the request path: the consumer (src/security/monitoring/detection/) reads
 * sealed audit events on a timer and writes alerts in its own transactions; a request only writes
 * its audit event, as it did before. This bench shows it: two bench servers, one with the
 * consumer off (MONITORING_POLL_INTERVAL=0) and one with it on and polling every second (so it
 * reads and evaluates every event the load produces while the load runs), and for each:
 *
 *   - login:           POST /api/auth/login (the right password: argon2, a session, two events)
 *   - portfolio write: PATCH /api/portfolios/:id (a transaction, an audit event, the public-read touch)
 *
 * Each variant is measured `BENCH_ROUNDS` times alternating off/on (the machine may be shared), the
 * best of each kept; the table prints on/off ratios.                                goal >= 0.95x
 *
 *   BENCH_DURATION=3 BENCH_CONNECTIONS=8 BENCH_ROUNDS=2 npm run bench:monitoring
 */
import { markdownTable, measure, startBenchServer, type BenchServer, type Variant } from './harness.js';

const durationS = Number(process.env['BENCH_DURATION'] ?? 3);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 8);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 2);

function variants(s: BenchServer, label: string): Variant[] {
  const base = `http://127.0.0.1:${s.port}`;
  return [
    {
      name: `login (${label})`,
      url: `${base}/api/auth/login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: s.email, password: s.password }),
    },
    {
      name: `portfolio write (${label})`,
      url: `${base}/api/portfolios/${s.portfolioId}`,
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${s.accessToken}` },
      body: JSON.stringify({ summary: 'Benchmark summary, rewritten on every request.' }),
    },
  ];
}

const off = await startBenchServer({ BENCH_CONFIG: JSON.stringify({ MONITORING_POLL_INTERVAL: '0' }) });
const on = await startBenchServer({ BENCH_CONFIG: JSON.stringify({ MONITORING_POLL_INTERVAL: '1' }) });
try {
  const best = new Map<string, { reqPerSec: number; non2xx: number; errors: number }>();
  for (let r = 0; r < rounds; r++) {
    for (const [server, label] of [
      [off, 'rules off'],
      [on, 'rules on'],
    ] as const) {
      for (const v of variants(server, label)) {
        const result = await measure(v, { durationS, connections });
        const prev = best.get(v.name);
        if (!prev || result.reqPerSec > prev.reqPerSec) {
          best.set(v.name, { reqPerSec: result.reqPerSec, non2xx: result.non2xx, errors: result.errors });
        }
      }
    }
  }
  const body: string[][] = [];
  for (const kind of ['login', 'portfolio write']) {
    const a = best.get(`${kind} (rules off)`);
    const b = best.get(`${kind} (rules on)`);
    if (!a || !b) continue;
    const ratio = a.reqPerSec > 0 ? b.reqPerSec / a.reqPerSec : 0;
    body.push([
      kind,
      a.reqPerSec.toFixed(0),
      b.reqPerSec.toFixed(0),
      `${ratio.toFixed(2)}x`,
      ratio >= 0.95 ? 'met' : 'NOT met',
      `${a.non2xx + b.non2xx}`,
      `${a.errors + b.errors}`,
    ]);
  }
  process.stdout.write(
    `Detection rules on vs off (${durationS}s x ${rounds} rounds, ${connections} connections, database ${on.database})\n\n` +
      `${markdownTable(['route', 'off req/s', 'on req/s', 'on/off', 'goal >= 0.95x', 'non-2xx', 'errors'], body)}\n`,
  );
} finally {
  await Promise.all([off.stop(), on.stop()]);
}
