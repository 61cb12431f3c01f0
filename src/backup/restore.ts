/**
 * `backup restore`: verify first (nothing is touched when that fails), take a safety backup of
 * the target, then replace the target's schemas with the dump in ONE transaction that commits
 * only after the whole dump went in and its checksum, id and end marker were checked again.
 * A failure anywhere (SQL error, wrong key, a file changed mid-way, a killed process) rolls back:
 * the database is as it was.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import type { PGlite } from '@electric-sql/pglite';
import { migrations } from '../platform/db/migrations/index.js';
import { reapplyPlan, type ReapplyPlan } from '../security/privacy/erasure/reapply.js';
import { createBackup, type BackupContext, type CreateResult } from './create.js';
import { connInfo, describeTarget, pgBinary, withPgClient, type DbTarget } from './db.js';
import { backupErrors, messageOf } from './errors.js';
import type { BackupMetadata } from './metadata.js';
import { silentProgress } from './progress.js';
import { queryOf, schemaInventory, WIPE } from './repository.js';
import { SqlBatcher } from './sql-split.js';
import { openPlaintext, verifyFile, wrongKey, type Plaintext, type VerifyReport } from './verify.js';

export interface TargetState {
  description: string;
  schemas: { name: string; tables: number }[];
  rows: number;
}

export async function targetState(target: DbTarget): Promise<TargetState> {
  const rows =
    target.kind === 'pglite'
      ? await schemaInventory(queryOf(target.pg))
      : await withPgClient(target.url, (c) => schemaInventory(queryOf(c)));
  return {
    description: describeTarget(target),
    schemas: rows.map((r) => ({ name: r.name, tables: r.tables })),
    rows: rows.reduce((a, r) => a + Number(r.rows), 0),
  };
}

export const LATEST_MIGRATION = Math.max(0, ...migrations.map((m) => m.id));

export interface RestorePlan {
  backup: VerifyReport;
  target: TargetState;
  steps: string[];
}

export interface RestoreResult {
  plan: RestorePlan;
  safety: CreateResult;
  ms: number;
  /** Accounts erased again from the erasure ledger (erased after the backup started). */
  erasuresReapplied: number;
}

/**
 * The erasure ledger's entries newer than the backup, as SQL (docs/PRIVACY.md "Backups"). A ledger
 * with lines that do not parse is refused: restoring could bring back someone it no longer names.
 */
export async function erasuresFor(checked: VerifyReport, ctx: BackupContext): Promise<ReapplyPlan> {
  if (!ctx.erasureLedger) return { sql: '', subjects: 0, unreadable: 0 };
  const plan = await reapplyPlan(ctx.erasureLedger, checked.metadata);
  if (plan.unreadable > 0)
    throw backupErrors.refused(
      `Nothing was restored: the erasure ledger ${ctx.erasureLedger.file} has ${plan.unreadable} unreadable line(s); repair it first (docs/PRIVACY.md)`,
    );
  return plan;
}

export interface RestoreOptions {
  dryRun?: boolean;
  /** Asked once the plan is known (TTY confirmation); false aborts without touching anything. */
  confirm?: (plan: RestorePlan) => Promise<boolean>;
}

export function checkCompatible(metadata: BackupMetadata, target: DbTarget): void {
  if (metadata.engine !== target.kind) {
    throw backupErrors.refused(
      metadata.engine === 'pglite'
        ? 'This backup is of the embedded (PGlite) database and restores only into the embedded database; for PostgreSQL, restore a PostgreSQL backup'
        : 'This backup is of a PostgreSQL database (COPY format) and restores only into PostgreSQL: set DATABASE_URL or pass --target-url',
    );
  }
  if (metadata.schemaVersion > LATEST_MIGRATION) {
    throw backupErrors.refused(
      `This backup has schema version ${metadata.schemaVersion} but this release knows up to ${LATEST_MIGRATION}: restore it with the release that made it or a newer one`,
    );
  }
}

export async function planRestore(file: string, target: DbTarget, ctx: BackupContext): Promise<RestorePlan> {
  const keys = await ctx.settings.decryptionKeys();
  const backup = await verifyFile(file, keys, ctx.progress ?? silentProgress);
  checkCompatible(backup.metadata, target);
  const state = await targetState(target).catch((err: unknown) => {
    throw backupErrors.restoreFailed(`Cannot reach ${describeTarget(target)}: ${messageOf(err)}`, err);
  });
  const m = backup.metadata;
  const steps = [
    `verified ${m.file} (${m.database}, ${m.completedAt}, schema version ${m.schemaVersion}): checksum, decryption, end marker`,
    `take a safety backup of ${state.description} into ${ctx.settings.dir}`,
    `in one transaction: drop schema${state.schemas.length === 1 ? '' : 's'} ${state.schemas.map((s) => `${s.name} (${s.tables} tables)`).join(', ') || '(none)'}, then load the dump (${m.tables.length} tables, ${m.tables.reduce((a, t) => a + t.rows, 0)} rows)`,
    'commit only if the whole dump loaded and matched its checksum again',
  ];
  return { backup, target: state, steps };
}

export async function restoreBackup(
  file: string,
  target: DbTarget,
  ctx: BackupContext,
  options: RestoreOptions = {},
): Promise<RestoreResult | { plan: RestorePlan; dryRun: true } | { plan: RestorePlan; cancelled: true }> {
  const plan = await planRestore(file, target, ctx);
  if (options.dryRun) return { plan, dryRun: true };
  if (options.confirm && !(await options.confirm(plan))) return { plan, cancelled: true };
  const erasures = await erasuresFor(plan.backup, ctx);
  const safety = await createBackup(target, ctx, { reason: 'pre-restore' }).catch((err: unknown) => {
    throw backupErrors.refused(`Nothing was restored: the pre-restore safety backup failed: ${messageOf(err)}`);
  });
  const started = Date.now();
  const keys = await ctx.settings.decryptionKeys();
  try {
    // The erasures newer than the backup run in the load's transaction: it commits erased.
    await loadDump(plan.backup, target, keys, ctx, erasures.sql);
  } catch (err) {
    await ctx.audit?.({
      action: 'backup.restore.failed',
      outcome: 'failure',
      target: plan.backup.metadata.file,
      metadata: { into: plan.target.description, safetyBackup: path.basename(safety.file), error: messageOf(err) },
    });
    throw err;
  }
  const ms = Date.now() - started;
  await ctx.audit?.({
    action: 'backup.restore.completed',
    outcome: 'success',
    target: plan.backup.metadata.file,
    metadata: {
      into: plan.target.description,
      safetyBackup: path.basename(safety.file),
      ms,
      sha256: plan.backup.metadata.sha256,
      erasuresReapplied: erasures.subjects,
    },
  });
  return { plan, safety, ms, erasuresReapplied: erasures.subjects };
}

/** Decrypts, decompresses and loads a verified backup into the target, all or nothing. */
export async function loadDump(
  checked: VerifyReport,
  target: DbTarget,
  keys: Awaited<ReturnType<BackupContext['settings']['decryptionKeys']>>,
  ctx: BackupContext,
  /** Run after the dump, in its transaction, before the commit (the erasures to apply again). */
  finalSql = '',
): Promise<void> {
  const plain = await openPlaintext(checked, keys, ctx.progress ?? silentProgress, 'restore');
  if (target.kind === 'pglite') await loadIntoPglite(target.pg, plain, path.basename(checked.file), finalSql);
  else await loadIntoPostgres(target.url, ctx.settings.pgBinDir, plain, path.basename(checked.file), finalSql);
}

async function loadIntoPglite(pg: PGlite, plain: Plaintext, name: string, finalSql: string): Promise<void> {
  const [sp] = (await pg.query<{ search_path: string }>('show search_path')).rows;
  await pg.exec('BEGIN');
  let committed = false;
  try {
    await pg.exec(WIPE);
    const batcher = new SqlBatcher();
    const decoder = new StringDecoder('utf8');
    const run = async (sql: string) => {
      if (sql.trim() === '') return;
      try {
        await pg.exec(sql);
      } catch (err) {
        throw backupErrors.restoreFailed(`Loading ${name} failed, nothing was changed: ${messageOf(err)}`, err);
      }
    };
    try {
      for await (const chunk of plain.stream) {
        for (const batch of batcher.push(decoder.write(chunk as Buffer))) await run(batch);
      }
    } catch (err) {
      throw err instanceof Error && err.name === 'BackupError' ? err : wrongKey(name, err);
    }
    batcher.push(decoder.end());
    await run(batcher.end());
    plain.check();
    await run(finalSql);
    await pg.exec('COMMIT');
    committed = true;
  } finally {
    if (!committed) await pg.exec('ROLLBACK').catch(() => undefined);
    if (sp) await pg.exec(`SET search_path TO ${sp.search_path}`).catch(() => undefined);
  }
}

/**
 * psql reads the dump from stdin inside BEGIN ... COMMIT that we write around it. ON_ERROR_STOP
 * makes psql exit at the first error; on any failure we kill psql before it sees COMMIT, and the
 * server rolls the transaction back when the connection drops.
 */
async function loadIntoPostgres(
  url: string,
  binDir: string | undefined,
  plain: Plaintext,
  name: string,
  finalSql: string,
): Promise<void> {
  const bin = pgBinary(binDir, 'psql');
  const { arg, env } = connInfo(url);
  const child = spawn(bin, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--dbname', arg], {
    env: { ...process.env, ...env, PGOPTIONS: '-c client_min_messages=warning' },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) =>
      reject(
        backupErrors.restoreFailed(
          `Cannot run ${bin} (install the PostgreSQL client or set BACKUP_PG_BIN_DIR): ${messageOf(err)}`,
          err,
        ),
      ),
    );
    child.on('close', (code) => resolve(code));
  });
  exited.catch(() => undefined);
  const psqlError = () => {
    const line = stderr.split('\n').find((l) => /ERROR|FATAL|error:/.test(l)) ?? stderr.trim().split('\n')[0] ?? '';
    return line.replace(/^psql:<stdin>:\d+: /, '').trim();
  };
  let ok = false;
  try {
    const stdin = child.stdin;
    stdin.on('error', () => undefined); // EPIPE when psql stopped at an error: reported below
    const write = (s: string) =>
      new Promise<void>((resolve, reject) => stdin.write(s, (err) => (err ? reject(err) : resolve())));
    await write(`SET client_min_messages = warning;\nBEGIN;\nSET LOCAL lock_timeout = '60s';\n${WIPE}\n`);
    try {
      await pipeline(plain.stream, new Writable({ write: (chunk: Buffer, _e, cb) => stdin.write(chunk, cb) }));
    } catch (err) {
      if (child.exitCode !== null || stderr)
        throw backupErrors.restoreFailed(`Loading ${name} failed, nothing was changed: ${psqlError()}`, err);
      throw wrongKey(name, err);
    }
    plain.check();
    if (finalSql) await write(finalSql);
    await write('COMMIT;\n');
    stdin.end();
    const code = await exited;
    if (code !== 0)
      throw backupErrors.restoreFailed(
        `Loading ${name} failed, nothing was changed: ${psqlError() || `psql exit ${code}`}`,
      );
    ok = true;
  } finally {
    if (!ok && child.exitCode === null) {
      child.kill('SIGKILL');
      await exited.catch(() => undefined);
    }
  }
}
