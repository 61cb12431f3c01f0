/**
 * `npm run bench:backup`: `backup create` against the shell pipeline it replaces, side by side in
 * one run, on a generated PostgreSQL database of at least BENCH_BACKUP_MB (default 200) MB:
 *
 *   shell    pg_dump | gzip -9 | gpg --symmetric --cipher-algo AES256     (the baseline)
 *   backup   npm run cli -- backup create  (pg_dump -> zlib on both cores at BACKUP_COMPRESSION_LEVEL,
 *            default 6 -> OpenPGP AES-256 -> fsync, plus
 *            per-table checksums in the same snapshot, SHA-256s and metadata)
 *
 * Then the restore side: `backup drill` (verify + restore into a throwaway database + compare
 * every table: the RTO it records) against `gpg -d | gunzip | psql` into an empty database.
 * Peak memory is the high-water RSS (VmHWM) of every process of a variant, polled from /proc;
 * for the shell the largest single process is shown (they run side by side, each bounded).
 * Goals (issue): time ratio <= 1.0, size within 2%, peak RSS of `backup create` under 150 MB.
 *
 *   BENCH_DATABASE_URL (or TEST_DATABASE_URL, default postgres://app:app@127.0.0.1:5432/app_test):
 *     a server where the user may CREATE DATABASE; the data lives in database bench_backup and is
 *     generated once (kept between runs; BENCH_BACKUP_REGENERATE=1 to rebuild).
 *   BENCH_BACKUP_ROUNDS (default 3): runs of each variant, interleaved; the best time is shown.
 *   BENCH_BACKUP_PGLITE_MB (default 40, 0 to skip): also measure `backup create` on an embedded
 *     PGlite database of about this size, next to what PGlite costs by itself (`db migrate`).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

const ROOT = path.resolve(import.meta.dirname, '..');
const BASE = process.env['BENCH_DATABASE_URL'] || process.env['TEST_DATABASE_URL'] || 'postgres://app:app@127.0.0.1:5432/app_test';
const TARGET_MB = Number(process.env['BENCH_BACKUP_MB'] ?? 200);
const ROUNDS = Number(process.env['BENCH_BACKUP_ROUNDS'] ?? 3);
const PGLITE_MB = Number(process.env['BENCH_BACKUP_PGLITE_MB'] ?? 40);
const PASSPHRASE = 'bench passphrase that is long enough';

function urlFor(db: string): string {
  const u = new URL(BASE);
  u.pathname = `/${db}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>, url = BASE): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Rows that compress like an application's: ids, emails, prose, JSON, timestamps. */
const GENERATE = (from: number, to: number) => `
  insert into bench_rows (id, email, title, body, meta, created_at)
  select g,
         'user' || g || '@example.test',
         'Project ' || md5(g::text),
         repeat(md5((g % 5000)::text) || ' lorem ipsum dolor sit amet, consectetur adipiscing elit ', 3 + g % 4) || md5(g::text),
         jsonb_build_object('n', g, 'tags', jsonb_build_array('t' || (g % 50), 't' || (g % 7)), 'score', (g * 37 % 1000) / 10.0),
         timestamptz '2024-01-01' + (g || ' seconds')::interval
    from generate_series(${from}, ${to}) g`;

async function ensureData(): Promise<{ url: string; bytes: number }> {
  const url = urlFor('bench_backup');
  const regenerate = process.env['BENCH_BACKUP_REGENERATE'] === '1';
  await admin(async (c) => {
    const exists = (await c.query(`select 1 from pg_database where datname = 'bench_backup'`)).rowCount === 1;
    if (exists && regenerate) await c.query('drop database bench_backup with (force)');
    if (!exists || regenerate) await c.query('create database bench_backup');
  });
  const size = async () => admin(async (c) => Number((await c.query<{ s: string }>(`select pg_database_size(current_database())::text as s`)).rows[0]!.s), url);
  if ((await size()) < TARGET_MB * 1024 * 1024) {
    process.stderr.write(`generating about ${TARGET_MB} MB in bench_backup...\n`);
    await runCli(['db', 'migrate'], { DATABASE_URL: url });
    await admin(async (c) => {
      await c.query(`create table if not exists bench_rows (id bigint primary key, email text, title text, body text, meta jsonb, created_at timestamptz)`);
      let next = Number((await c.query<{ m: string }>(`select coalesce(max(id), 0)::text as m from bench_rows`)).rows[0]!.m) + 1;
      while ((await size()) < TARGET_MB * 1024 * 1024) {
        await c.query(GENERATE(next, next + 99_999));
        next += 100_000;
      }
      await c.query('vacuum analyze bench_rows');
    }, url);
  }
  return { url, bytes: await size() };
}

interface Run {
  ms: number;
  peakKb: number;
  code: number | null;
  stderr: string;
}

/** VmHWM of a process and all its descendants, polled every 50 ms. */
async function hwm(pid: number, seen: Map<number, number>): Promise<void> {
  const kids = async (p: number): Promise<number[]> => {
    const out: number[] = [];
    try {
      for (const t of await readdir(`/proc/${p}/task`)) {
        const c = await readFile(`/proc/${p}/task/${t}/children`, 'utf8').catch(() => '');
        for (const k of c.split(/\s+/).filter(Boolean)) out.push(Number(k), ...(await kids(Number(k))));
      }
    } catch {
      /* gone */
    }
    return out;
  };
  for (const p of [pid, ...(await kids(pid))]) {
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    if (m?.[1]) seen.set(p, Math.max(seen.get(p) ?? 0, Number(m[1])));
  }
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const seen = new Map<number, number>();
    let polling = false;
    const timer = setInterval(() => {
      if (polling || child.pid === undefined) return;
      polling = true;
      void hwm(child.pid, seen).finally(() => (polling = false));
    }, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ ms: performance.now() - started, peakKb: Math.max(0, ...seen.values()), code, stderr });
    });
  });
}

/**
 * The CLI as production runs it: compiled JavaScript (`node dist/cli/main.js`), one process, so
 * its RSS is the backup's own and not the TypeScript loader's. Built once per run into
 * node_modules/.cache (package resolution works from there, and git ignores it).
 */
const DIST = path.join(ROOT, 'node_modules', '.cache', 'bench-backup-dist');
let built: Promise<string[]> | undefined;
function cliEntry(): Promise<string[]> {
  built ??= (async () => {
    process.stderr.write('building the CLI (tsc)...\n');
    await rm(DIST, { recursive: true, force: true });
    // Type errors elsewhere in a working tree do not stop the emit; only a missing entry does.
    await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', DIST]);
    const entry = path.join(DIST, 'cli', 'main.js');
    if (await stat(entry).then(() => true, () => false)) return [entry];
    process.stderr.write('build failed; running through tsx instead (adds the loader to the RSS)\n');
    return ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')];
  })();
  return built;
}

async function runCli(args: string[], env: Record<string, string>): Promise<Run> {
  return run(process.execPath, [...(await cliEntry()), ...args], { LOG_LEVEL: 'silent', ...env }).then((r) => {
    if (r.code !== 0) throw new Error(`cli ${args.join(' ')} failed: ${r.stderr}`);
    return r;
  });
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r, j) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ') + (j === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n');
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'pf-bench-backup-'));
  const passFile = path.join(work, 'passphrase');
  await writeFile(passFile, `${PASSPHRASE}\n`, { mode: 0o600 });
  const gnupg = path.join(work, 'gnupg');
  try {
    const data = await ensureData();
    const dumpBytes = await admin(async (c) => Number((await c.query<{ s: string }>(`select pg_total_relation_size('bench_rows')::text as s`)).rows[0]!.s), data.url);
    process.stderr.write(`database bench_backup: ${mb(data.bytes)} (bench_rows ${mb(dumpBytes)})\n`);
    const env = { DATABASE_URL: data.url, DATA_DIR: path.join(work, 'data'), BACKUP_DIR: path.join(work, 'backups'), BACKUP_PASSPHRASE_FILE: passFile };
    await mkdir(gnupg, { mode: 0o700 });
    const shellOut = path.join(work, 'shell.sql.gz.gpg');
    const shell = `pg_dump --format=plain --no-owner --dbname '${data.url.replace(/:[^:@/]+@/, '@')}' | gzip -9 | gpg --homedir '${gnupg}' --batch --yes --quiet --symmetric --cipher-algo AES256 --passphrase-file '${passFile}' -o '${shellOut}'`;
    const password = decodeURIComponent(new URL(data.url).password);

    // What the admin CLI costs before any backup work: start, load the backup commands' modules, exit.
    const cliStart = await runCli(['backup', 'list'], { ...env, BACKUP_DIR: path.join(work, 'empty') });
    const results: { shell: Run[]; backup: Run[]; shellSize: number; backupSize: number; backupFile: string } = { shell: [], backup: [], shellSize: 0, backupSize: 0, backupFile: '' };
    for (let round = 1; round <= ROUNDS; round++) {
      process.stderr.write(`round ${round}/${ROUNDS}: shell pipeline...\n`);
      const s = await run('bash', ['-o', 'pipefail', '-c', shell], { PGPASSWORD: password });
      if (s.code !== 0) throw new Error(`shell pipeline failed: ${s.stderr}`);
      results.shell.push(s);
      results.shellSize = (await stat(shellOut)).size;
      process.stderr.write(`round ${round}/${ROUNDS}: backup create...\n`);
      const b = await runCli(['backup', 'create'], env);
      results.backup.push(b);
      const files = (await readdir(env.BACKUP_DIR)).filter((n) => n.endsWith('.gpg')).sort();
      results.backupFile = path.join(env.BACKUP_DIR, files.at(-1)!);
      results.backupSize = (await stat(results.backupFile)).size;
      for (const f of files.slice(0, -1)) await rm(path.join(env.BACKUP_DIR, f));
    }

    // Restore: the shell way into an empty database, and backup drill (verify + restore + compare).
    process.stderr.write('restore: gpg -d | gunzip | psql...\n');
    await admin((c) => c.query('drop database if exists bench_backup_restore'));
    await admin((c) => c.query('create database bench_backup_restore template template0'));
    const restoreShell = await run('bash', ['-o', 'pipefail', '-c', `gpg --homedir '${gnupg}' --batch --quiet --passphrase-file '${passFile}' -d '${shellOut}' | gunzip | psql -X -q -v ON_ERROR_STOP=1 --single-transaction --dbname '${urlFor('bench_backup_restore').replace(/:[^:@/]+@/, '@')}' >/dev/null`], { PGPASSWORD: password });
    if (restoreShell.code !== 0) throw new Error(`shell restore failed: ${restoreShell.stderr}`);
    await admin((c) => c.query('drop database if exists bench_backup_restore with (force)'));
    process.stderr.write('restore: backup drill...\n');
    const drill = await runCli(['backup', 'drill', results.backupFile], env);
    const meta = JSON.parse(await readFile(results.backupFile.replace(/\.sql\.gz\.gpg$/, '.json'), 'utf8')) as { drill: { rtoMs: number }; sizes: { dump: number } };

    const best = (rs: Run[]) => rs.reduce((a, r) => (r.ms < a.ms ? r : a));
    const peak = (rs: Run[]) => Math.max(...rs.map((r) => r.peakKb));
    const sb = best(results.shell);
    const bb = best(results.backup);
    const rows = [
      ['variant', 'time', 'ratio', 'output', 'size ratio', 'peak RSS'],
      ['shell: pg_dump | gzip -9 | gpg --symmetric AES256', `${(sb.ms / 1000).toFixed(1)} s`, '1.00', mb(results.shellSize), '1.000', `${(peak(results.shell) / 1024).toFixed(0)} MiB*`],
      ['backup create', `${(bb.ms / 1000).toFixed(1)} s`, (bb.ms / sb.ms).toFixed(2), mb(results.backupSize), (results.backupSize / results.shellSize).toFixed(3), `${(peak(results.backup) / 1024).toFixed(0)} MiB`],
      ['  of which CLI start (backup list, empty folder)', `${(cliStart.ms / 1000).toFixed(1)} s`, '', '', '', `${(cliStart.peakKb / 1024).toFixed(0)} MiB`],
      ['shell restore: gpg -d | gunzip | psql', `${(restoreShell.ms / 1000).toFixed(1)} s`, '1.00', '', '', `${(restoreShell.peakKb / 1024).toFixed(0)} MiB*`],
      ['backup drill (verify+restore+compare)', `${(drill.ms / 1000).toFixed(1)} s`, (drill.ms / restoreShell.ms).toFixed(2), '', '', `${(drill.peakKb / 1024).toFixed(0)} MiB`],
    ];
    const out = [
      `backup benchmark: database ${mb(data.bytes)}, plain dump ${mb(meta.sizes.dump)}, best of ${ROUNDS} rounds, ${os.cpus().length} CPUs`,
      table(rows),
      `* largest single process of the pipeline`,
      `RTO recorded by the drill: ${(meta.drill.rtoMs / 1000).toFixed(1)} s`,
      `goals: time ratio <= 1.0 ${bb.ms / sb.ms <= 1 ? 'met' : 'NOT met'}; size within 2% ${Math.abs(results.backupSize / results.shellSize - 1) <= 0.02 ? 'met' : 'NOT met'}; peak RSS < 150 MB ${peak(results.backup) < 150 * 1024 ? 'met' : 'NOT met'}`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    if (PGLITE_MB > 0) process.stdout.write(`${await pgliteBench(work, passFile)}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(DIST, { recursive: true, force: true });
  }
}

/**
 * The embedded database: the schema comes from pglite-tools' pg_dump, the rows stream through a
 * cursor (src/backup/pglite-dump.ts); PGlite's WASM instance itself takes a few hundred MB.
 */
async function pgliteBench(work: string, passFile: string): Promise<string> {
  const dataDir = path.join(work, 'pglite');
  await mkdir(dataDir, { recursive: true });
  const pgl = await PGlite.create(path.join(dataDir, 'pgdata'));
  await pgl.exec(`create table bench_rows (id bigint primary key, email text, title text, body text, meta jsonb, created_at timestamptz)`);
  let next = 1;
  const size = async () => Number((await pgl.query<{ s: string }>(`select pg_database_size(current_database())::text as s`)).rows[0]!.s);
  while ((await size()) < PGLITE_MB * 1024 * 1024) {
    await pgl.exec(GENERATE(next, next + 19_999));
    next += 20_000;
  }
  const dbBytes = await size();
  await pgl.close();
  // What the embedded database costs by itself (open, migrate, close), to tell it from the dump.
  const open = await runCli(['db', 'migrate'], { DATA_DIR: dataDir });
  const r = await runCli(['backup', 'create'], { DATA_DIR: dataDir, BACKUP_PASSPHRASE_FILE: passFile });
  const files = (await readdir(path.join(dataDir, 'backups'))).filter((n) => n.endsWith('.json'));
  const meta = JSON.parse(await readFile(path.join(dataDir, 'backups', files[0]!), 'utf8')) as { sizes: { dump: number; encrypted: number } };
  return [
    '',
    `PGlite (embedded): database ${mb(dbBytes)}, dump ${mb(meta.sizes.dump)} (INSERT statements), output ${mb(meta.sizes.encrypted)}`,
    table([
      ['variant', 'time', 'peak RSS'],
      ['db migrate (opens PGlite: its own footprint)', `${(open.ms / 1000).toFixed(1)} s`, `${(open.peakKb / 1024).toFixed(0)} MiB`],
      ['backup create', `${(r.ms / 1000).toFixed(1)} s`, `${(r.peakKb / 1024).toFixed(0)} MiB`],
    ]),
    `  the streamed dump adds ${((r.peakKb - open.peakKb) / 1024).toFixed(0)} MiB over PGlite itself for a ${mb(meta.sizes.dump)} dump`,
  ].join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
