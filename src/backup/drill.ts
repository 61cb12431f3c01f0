/**
 * `backup drill`: proves a backup restores. The newest backup (or the one named) is verified,
 * restored into a scratch database (a temporary in-memory PGlite, or a throwaway PostgreSQL
 * database created and dropped on the same server), and every table's row count and content
 * checksum is compared with what the backup saw. The measured time is the RTO; a pass is
 * recorded in the metadata, which makes the backup "verified".
 */
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type { BackupContext } from './create.js';
import { checksumsOf, withPgClient, type DbTarget } from './db.js';
import { createScratchDatabase, dropScratchDatabase, queryOf } from './repository.js';
import { backupErrors, messageOf } from './errors.js';
import { writeMetadataFile, type DrillRecord, type TableChecksum } from './metadata.js';
import { checkCompatible, erasuresFor, loadDump } from './restore.js';
import { silentProgress } from './progress.js';
import { verifyFile } from './verify.js';

/** Runs a script of several statements on the scratch database. */
async function execScript(target: DbTarget, script: string): Promise<void> {
  if (target.kind === 'pglite') await target.pg.exec(script);
  else await withPgClient(target.url, (c) => c.query(script));
}

export interface DrillResult {
  record: DrillRecord;
  mismatches: string[];
  metadataFile: string;
}

export function compareTables(expected: readonly TableChecksum[], actual: readonly TableChecksum[]): string[] {
  const key = (t: TableChecksum) => `${t.schema}.${t.name}`;
  const got = new Map(actual.map((t) => [key(t), t]));
  const out: string[] = [];
  for (const e of expected) {
    const a = got.get(key(e));
    got.delete(key(e));
    if (!a) out.push(`${key(e)} is missing`);
    else if (a.rows !== e.rows) out.push(`${key(e)} has ${a.rows} rows, expected ${e.rows}`);
    else if (a.checksum !== e.checksum) out.push(`${key(e)} content differs`);
  }
  for (const k of got.keys()) out.push(`${k} was not in the backup`);
  return out;
}

/**
 * @param server where a PostgreSQL backup is drilled: a URL whose user may CREATE DATABASE
 *   (the configured DATABASE_URL); the scratch database is dropped afterwards, pass or fail.
 */
export async function drillFile(file: string, ctx: BackupContext, server: string | undefined): Promise<DrillResult> {
  const keys = await ctx.settings.decryptionKeys();
  const progress = ctx.progress ?? silentProgress;
  const started = Date.now();
  const checked = await verifyFile(file, keys, progress);
  const { metadata } = checked;
  let scratch: { target: DbTarget; label: string; drop: () => Promise<void> };
  if (metadata.engine === 'pglite') {
    const pg = await PGlite.create();
    scratch = {
      target: { kind: 'pglite', pg, label: 'scratch' },
      label: 'a temporary in-memory PGlite',
      drop: () => pg.close(),
    };
  } else {
    if (!server)
      throw backupErrors.notConfigured('A PostgreSQL backup is drilled on a PostgreSQL server: set DATABASE_URL');
    const name = `drill_${randomBytes(6).toString('hex')}`;
    await withPgClient(server, (c) => createScratchDatabase(queryOf(c), name)).catch((err: unknown) => {
      throw backupErrors.drillFailed(
        `Cannot create the scratch database ${name} (the DATABASE_URL user needs CREATEDB): ${messageOf(err)}`,
      );
    });
    const u = new URL(server);
    u.pathname = `/${name}`;
    scratch = {
      target: { kind: 'postgres', url: u.toString() },
      label: `the throwaway database ${name}`,
      drop: async () => {
        await withPgClient(server, (c) => dropScratchDatabase(queryOf(c), name));
      },
    };
  }
  let record: DrillRecord;
  let mismatches: string[] = [];
  try {
    checkCompatible(metadata, scratch.target);
    await loadDump(checked, scratch.target, keys, ctx);
    const rtoMs = Date.now() - started;
    mismatches = compareTables(metadata.tables, await checksumsOf(scratch.target));
    // Then, as a restore would before the database is used: the erasures newer than the backup.
    const erasures = await erasuresFor(checked, ctx);
    if (erasures.sql) await execScript(scratch.target, `BEGIN;\n${erasures.sql}COMMIT;\n`);
    record = {
      at: ctx.clock.now().toISOString(),
      ok: mismatches.length === 0,
      rtoMs,
      target: scratch.label,
      tables: metadata.tables.length,
      rows: metadata.tables.reduce((a, t) => a + t.rows, 0),
      erasuresReapplied: erasures.subjects,
      ...(mismatches.length > 0 ? { detail: mismatches.slice(0, 5).join('; ') } : {}),
    };
  } catch (err) {
    record = {
      at: ctx.clock.now().toISOString(),
      ok: false,
      rtoMs: Date.now() - started,
      target: scratch.label,
      tables: metadata.tables.length,
      rows: 0,
      detail: messageOf(err),
    };
    await writeMetadataFile(checked.metadataFile, { ...metadata, drill: record }).catch(() => undefined);
    await ctx.audit?.({
      action: 'backup.drill.failed',
      outcome: 'failure',
      target: metadata.file,
      metadata: { detail: record.detail ?? '' },
    });
    throw err;
  } finally {
    await scratch.drop().catch(() => undefined);
  }
  await writeMetadataFile(checked.metadataFile, { ...metadata, drill: record });
  await ctx.audit?.({
    action: record.ok ? 'backup.drill.completed' : 'backup.drill.failed',
    outcome: record.ok ? 'success' : 'failure',
    target: metadata.file,
    metadata: {
      rtoMs: record.rtoMs,
      tables: record.tables,
      rows: record.rows,
      ...(record.detail ? { detail: record.detail } : {}),
    },
  });
  return { record, mismatches, metadataFile: checked.metadataFile };
}
