/**
 * The work behind `npm run cli -- backup ...` (declared in ./backup.ts, loaded when one runs):
 * create, list, verify, restore, drill and prune encrypted backups (src/backup/,
 * docs/BACKUP_RECOVERY.md). Each command imports the backup modules only it uses (drill, restore,
 * verify, the catalog, PGlite, the audit service), so `backup create` on PostgreSQL loads the
 * dump/compress/encrypt path and little else: its start time and memory are part of the
 * backup's budget (bench/backup.ts). Every failure is one sentence on stderr and a non-zero
 * exit; progress goes to stderr (a bar on a terminal, log lines otherwise), results to stdout.
 */
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { PGlite } from '@electric-sql/pglite';
import { createBackup, type BackupAudit, type BackupContext } from '../backup/create.js';
import type { DbTarget } from '../backup/db.js';
import { backupErrors, messageOf } from '../backup/errors.js';
import { readMetadataFile, writeMetadataFile } from '../backup/metadata.js';
import { formatBytes, streamProgress } from '../backup/progress.js';
import type { RestorePlan } from '../backup/restore.js';
import { backupSettings, openS3, type BackupSettings } from '../backup/settings.js';
import { loadConfig, type Config } from '../config/index.js';
import { systemClock } from '../platform/clock.js';
import type { Db } from '../platform/db/index.js';
import { ErasureLedger, erasureLedgerDir } from '../security/privacy/erasure/ledger.js';
import { cliStdin } from './io.js';

interface Opened {
  config: Config;
  settings: BackupSettings;
  target: DbTarget;
  ctx: BackupContext;
  close(): Promise<void>;
}

async function openPglite(dir: string): Promise<PGlite> {
  // With the server's options (shared buffers), so a backup's memory is what the server's is.
  const { openPgliteClient } = await import('../platform/db/pglite.js');
  return openPgliteClient(dir);
}

/**
 * The single point where backup events reach the audit log (src/security/audit/): written as
 * `system` with the OS user who ran the command. A failure to write one is reported, not fatal:
 * the backup itself already happened.
 */
function auditTo(openDbForAudit: () => Promise<{ db: Db; close: () => Promise<void> }>, config: Config): BackupAudit {
  return async (event) => {
    let handle: { db: Db; close: () => Promise<void> } | undefined;
    try {
      handle = await openDbForAudit();
      // Loaded on first use: the audit module is sizeable, and memory is part of the backup's budget.
      const { createAuditService } = await import('../security/audit/service.js');
      const audit = await createAuditService({ db: handle.db, clock: systemClock, config }, { createKey: true });
      try {
        await audit.record({
          action: event.action,
          actor: 'system',
          outcome: event.outcome,
          target: { type: 'backup', id: event.target },
          metadata: { ...event.metadata, osUser: safeUser() },
        });
      } finally {
        await audit.stop();
      }
    } catch (err) {
      process.stderr.write(`warning: audit event ${event.action} was not written: ${messageOf(err)}\n`);
    } finally {
      await handle?.close();
    }
  };
}

/**
 * Starts loading the modules the audit hook needs at the end of `backup create` (the audit
 * service compiles its event schema: about 0.3 s of CPU) while the dump runs and the main thread
 * mostly waits on pg_dump and the zlib threads; the completion event then costs about 0.1 s
 * instead of 0.4 s after the backup. Costs about 8 MB more at the peak (bench/backup.ts).
 */
function preloadAudit(config: Config): void {
  void import('../security/audit/service.js').catch(() => undefined);
  if (config.DATABASE_URL) void import('../platform/db/index.js').catch(() => undefined);
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

async function open(options: { needDb: boolean; targetUrl?: string | undefined }): Promise<Opened> {
  const config = loadConfig();
  const settings = backupSettings(config);
  const progress = streamProgress(process.stderr);
  let pglite: PGlite | undefined;
  let target: DbTarget | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  if (options.targetUrl) {
    target = { kind: 'postgres', url: options.targetUrl };
  } else if (config.DATABASE_URL) {
    target = { kind: 'postgres', url: config.DATABASE_URL };
  } else if (options.needDb) {
    const dir = path.resolve(config.DATA_DIR, 'pgdata');
    try {
      await mkdir(path.dirname(dir), { recursive: true });
      pglite = await openPglite(dir);
    } catch (err) {
      throw backupErrors.notConfigured(
        `Cannot open the embedded database in ${dir} (stop the server first: PGlite allows one process): ${messageOf(err)}`,
      );
    }
    const pg = pglite;
    target = { kind: 'pglite', pg, label: dir };
    cleanups.push(() => pg.close());
  }
  const auditDb = async () => {
    if (!pglite && !config.DATABASE_URL) {
      // Commands that need no database (drill, prune) open the embedded one only to audit.
      const pg = await openPglite(path.resolve(config.DATA_DIR, 'pgdata'));
      pglite = pg;
      cleanups.push(() => pg.close());
    }
    // The audit log is written through the same PGlite instance (one process, one session).
    const { openDb, pgliteDb } = await import('../platform/db/index.js');
    if (pglite) return { db: pgliteDb(pglite), close: async () => undefined };
    if (!config.DATABASE_URL) throw new Error('no database');
    const db = await openDb({ url: config.DATABASE_URL, dataDir: 'unused', poolSize: 2 });
    return { db, close: () => db.close() };
  };
  const ctx: BackupContext = {
    settings,
    clock: systemClock,
    progress,
    audit: auditTo(auditDb, config),
    // Outside the backups, beside the audit checkpoints: restore and drill erase again from it.
    erasureLedger: new ErasureLedger(erasureLedgerDir(config.DATA_DIR)),
  };
  return {
    config,
    settings,
    target: target ?? { kind: 'postgres', url: 'postgres://unused/unused' },
    ctx,
    close: async () => {
      for (const c of cleanups) await c().catch(() => undefined);
    },
  };
}

async function using<T>(
  options: { needDb: boolean; targetUrl?: string | undefined },
  fn: (o: Opened) => Promise<T>,
): Promise<T> {
  const o = await open(options);
  try {
    return await fn(o);
  } finally {
    await o.close();
  }
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** After a verify or drill on a backup that is also in S3, its metadata there is updated too. */
async function syncMetadataToS3(settings: BackupSettings, metadataFile: string): Promise<void> {
  if (!settings.s3) return;
  const store = await openS3(settings);
  try {
    const key = path.basename(metadataFile);
    if (await store.head(key))
      await store.put(key, createReadStream(metadataFile), { contentType: 'application/json' });
  } finally {
    await store.close();
  }
}

async function confirmOnTty(plan: RestorePlan): Promise<boolean> {
  const rl = createInterface({ input: cliStdin(), output: process.stderr });
  try {
    const answer = await rl.question(
      `Restore ${plan.backup.metadata.file} into ${plan.target.description}, replacing everything in it? Type "yes" to continue: `,
    );
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

export async function backupCreate(opts: { uploadS3: boolean; unencrypted: boolean }): Promise<void> {
  await using({ needDb: true }, async ({ config, target, ctx }) => {
    preloadAudit(config);
    const r = await createBackup(target, ctx, { uploadS3: opts.uploadS3, unencrypted: opts.unencrypted });
    const m = r.metadata;
    out(
      `Created ${r.file} (${formatBytes(m.sizes.encrypted)} from a ${formatBytes(m.sizes.dump)} dump, ${m.encryption.format === 'openpgp' ? `encrypted ${m.encryption.cipher}` : 'NOT encrypted'}) in ${seconds(m.durationMs)}; sha256 ${m.sha256}.`,
    );
    if (r.s3) out(`Uploaded to ${r.s3.data} (with ${path.basename(r.metadataFile)}).`);
  });
}

export async function backupList(opts: { json: boolean }): Promise<void> {
  const { catalogFor, describeEntry } = await import('../backup/cli-support.js');
  await using({ needDb: false }, async ({ settings }) => {
    const entries = await catalogFor(settings);
    if (opts.json) {
      out(JSON.stringify(entries.map(describeEntry), null, 2));
      return;
    }
    if (entries.length === 0) {
      out(
        `No backups in ${settings.dir}${settings.s3 ? ` or s3://${settings.s3.bucket}/${settings.s3.prefix ?? ''}` : ''}.`,
      );
      return;
    }
    for (const e of entries.map(describeEntry)) {
      const verified = e.verified
        ? `verified ${e.verified.at} (restore ${seconds(e.verified.rtoMs)})`
        : e.lastDrill
          ? `drill FAILED ${e.lastDrill.at}`
          : 'not verified';
      out(
        `${e.createdAt}  ${formatBytes(e.size).padStart(9)}  ${e.locations.join('+').padEnd(8)}  ${e.status.padEnd(10)}  ${verified}  ${e.name}${e.problem ? `  (${e.problem})` : ''}`,
      );
    }
  });
}

export async function backupVerify(file: string): Promise<void> {
  const [{ locate }, { verifyFile }] = await Promise.all([
    import('../backup/locate.js'),
    import('../backup/verify.js'),
  ]);
  await using({ needDb: false }, async ({ settings, ctx }) => {
    const located = await locate(file, settings);
    try {
      const r = await verifyFile(located.file, await settings.decryptionKeys(), ctx.progress);
      // Recording the check is a convenience: a read-only copy of the backups still verifies.
      try {
        await writeMetadataFile(r.metadataFile, {
          ...r.metadata,
          verified: { at: ctx.clock.now().toISOString(), ok: true },
        });
        if (located.where === 's3') await syncMetadataToS3(settings, r.metadataFile);
      } catch (err) {
        process.stderr.write(
          `warning: the result was not recorded in ${path.basename(r.metadataFile)}: ${messageOf(err)}\n`,
        );
      }
      out(
        `${r.metadata.file} is intact: SHA-256 matches its metadata, it decrypts, and the ${formatBytes(r.dumpBytes)} dump is complete (${r.metadata.database}, ${r.metadata.completedAt}, schema version ${r.metadata.schemaVersion}); checked in ${seconds(r.ms)}.`,
      );
    } finally {
      await located.cleanup();
    }
  });
}

export async function backupRestore(
  file: string,
  opts: { dryRun: boolean; yes: boolean; targetUrl?: string },
): Promise<void> {
  const [{ locate }, { restoreBackup }, { describeTarget }] = await Promise.all([
    import('../backup/locate.js'),
    import('../backup/restore.js'),
    import('../backup/db.js'),
  ]);
  if (opts.targetUrl && !/^postgres(ql)?:\/\//.test(opts.targetUrl))
    throw backupErrors.refused('--target-url must be a postgres:// URL');
  await using({ needDb: true, targetUrl: opts.targetUrl }, async ({ settings, target, ctx }) => {
    if (!opts.dryRun && !opts.yes && !cliStdin().isTTY) {
      throw backupErrors.refused(
        'Restoring replaces the whole database: run it on a terminal to confirm, or pass --yes',
      );
    }
    const located = await locate(file, settings);
    try {
      const r = await restoreBackup(located.file, target, ctx, {
        dryRun: opts.dryRun,
        ...(opts.yes ? {} : { confirm: confirmOnTty }),
      });
      const lines = r.plan.steps.map((s, i) => `  ${i + 1}. ${s}`);
      if ('dryRun' in r) {
        out(
          `Dry run, nothing was changed. Restoring ${r.plan.backup.metadata.file} into ${describeTarget(target)} would:`,
        );
        for (const l of lines) out(l);
        return;
      }
      if ('cancelled' in r) throw backupErrors.refused('Restore cancelled, nothing was changed');
      out(`Restored ${r.plan.backup.metadata.file} into ${r.plan.target.description} in ${seconds(r.ms)}:`);
      for (const l of lines) out(l);
      out(`Erased again from the erasure ledger (erased after the backup started): ${r.erasuresReapplied} account(s).`);
      out(`Safety backup of the previous state: ${r.safety.file}`);
    } finally {
      await located.cleanup();
    }
  });
}

export async function backupDrill(file: string | undefined): Promise<void> {
  const [{ catalogFor }, { locate }, { drillFile }] = await Promise.all([
    import('../backup/cli-support.js'),
    import('../backup/locate.js'),
    import('../backup/drill.js'),
  ]);
  await using({ needDb: false }, async ({ config, settings, ctx }) => {
    let ref = file;
    if (!ref) {
      const newest = (await catalogFor(settings)).find((e) => e.valid);
      if (!newest)
        throw backupErrors.notFound(`No valid backup to drill in ${settings.dir}${settings.s3 ? ' or S3' : ''}`);
      ref = newest.local?.file ?? newest.name;
    }
    const located = await locate(ref, settings);
    try {
      const r = await drillFile(located.file, ctx, config.DATABASE_URL);
      await syncMetadataToS3(settings, r.metadataFile);
      const m = await readMetadataFile(r.metadataFile);
      if (!r.record.ok) {
        throw backupErrors.drillFailed(`Drill FAILED for ${m.file}: ${r.mismatches.slice(0, 3).join('; ')}`);
      }
      const rtoNote =
        r.record.rtoMs > settings.rtoMinutes * 60_000
          ? `, OVER the ${settings.rtoMinutes} min RTO`
          : ` (RTO target ${settings.rtoMinutes} min)`;
      out(
        `Drill passed: ${m.file} restored into ${r.record.target} in ${seconds(r.record.rtoMs)}${rtoNote}; ${r.record.tables} tables and ${r.record.rows} rows match the backup. Marked verified.`,
      );
    } finally {
      await located.cleanup();
    }
  });
}

export async function backupPrune(opts: { dryRun: boolean }): Promise<void> {
  const [{ catalogFor }, { deleteBackup, planPrune }] = await Promise.all([
    import('../backup/cli-support.js'),
    import('../backup/prune.js'),
  ]);
  await using({ needDb: false }, async ({ settings, ctx }) => {
    const entries = await catalogFor(settings);
    const plan = planPrune(entries, {
      now: ctx.clock.now(),
      retentionDays: settings.retentionDays,
      minKeep: settings.minKeep,
    });
    const store = settings.s3 ? await openS3(settings) : undefined;
    try {
      for (const { entry, why } of plan.remove) {
        if (opts.dryRun) {
          out(`Would delete ${entry.name} (${entry.locations.join('+')}): ${why}.`);
          continue;
        }
        await deleteBackup(entry, store);
        out(`Deleted ${entry.name} (${entry.locations.join('+')}): ${why}.`);
        await ctx.audit?.({
          action: 'backup.prune.deleted',
          outcome: 'success',
          target: entry.name,
          metadata: { why, locations: entry.locations, createdAt: entry.createdAt.toISOString(), valid: entry.valid },
        });
      }
    } finally {
      await store?.close();
    }
    const kept = plan.keep.find((k) => k.why === 'newest verified backup');
    out(
      `${opts.dryRun ? 'Would delete' : 'Deleted'} ${plan.remove.length} and kept ${plan.keep.length} backup${plan.keep.length === 1 ? '' : 's'}${kept ? `; newest verified: ${kept.entry.name}` : '; no verified backup yet (run backup drill)'}.`,
    );
  });
}
