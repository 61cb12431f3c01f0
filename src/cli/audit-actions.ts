/**
 * The work behind `npm run cli -- audit ...` (declared in ./audit.ts, loaded when one runs):
 * verify, export and prune the tamper-evident audit log (src/security/audit/). Every failure is
 * one sentence on stderr and a non-zero exit; a damaged chain names the first bad seq and the
 * kind of damage.
 */
import path from 'node:path';
import { loadConfig, type Config } from '../config/index.js';
import { AppError } from '../http/errors.js';
import { openDatabase } from '../platform/bootstrap.js';
import { systemClock } from '../platform/clock.js';
import type { Db } from '../platform/db/index.js';
import { migrate } from '../platform/db/migrate.js';
import { verifyBundle } from '../security/audit/bundle.js';
import { resolveSigningKey } from '../security/audit/keys.js';
import { createAuditService, type AuditService } from '../security/audit/service.js';
import { parseTrustedKeys, publicKeyFromRaw, trustedKeys } from '../security/audit/signing.js';
import { describeResult, type VerifyResult } from '../security/audit/verify.js';

function fail(message: string): AppError {
  return new AppError(1, 'AUDIT_CLI', 'audit', message);
}

function seqOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw fail(`${name} must be a positive integer, got "${value}"`);
  return Number(value);
}

function dateOption(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime()))
    throw fail(`${name} must be an ISO date such as 2026-01-31, got "${value}"`);
  return d;
}

async function withAudit<T>(
  fn: (audit: AuditService, config: Config) => Promise<T>,
  options: { createKey: boolean },
): Promise<T> {
  const config = loadConfig();
  let db: Db;
  try {
    db = await openDatabase(config);
  } catch (err) {
    throw fail(`Cannot open the database: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    await migrate(db);
    const audit = await createAuditService({ db, clock: systemClock, config }, options);
    try {
      return await fn(audit, config);
    } finally {
      await audit.stop();
    }
  } finally {
    await db.close();
  }
}

function report(result: VerifyResult, extra = ''): void {
  if (!result.ok) throw fail(describeResult(result));
  const rate = result.ms > 0 ? `, ${Math.round((result.events / result.ms) * 1000)} events/s` : '';
  process.stdout.write(`${describeResult(result)}${extra}${rate}.\n`);
}

export async function auditVerify(opts: { from?: string; bundle?: string; publicKey: string[] }): Promise<void> {
  const from = seqOption(opts.from, '--from');
  let extra: { kid: string; key: string }[];
  try {
    extra = opts.publicKey.flatMap((k) => parseTrustedKeys(k));
  } catch (err) {
    throw fail(`--public-key: ${(err as Error).message}`);
  }
  if (opts.bundle) {
    if (from !== undefined) throw fail('--from cannot be combined with --bundle (a bundle is verified whole)');
    const config = loadConfig();
    const signing = await resolveSigningKey(config, { create: false });
    const keys = trustedKeys(signing, [...config.AUDIT_TRUSTED_KEYS, ...extra]);
    if (keys.size === 0)
      throw fail('No trusted public key: set AUDIT_SIGNING_KEY or AUDIT_TRUSTED_KEYS, or pass --public-key');
    const file = path.resolve(opts.bundle);
    let result;
    try {
      result = await verifyBundle(file, keys);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw fail(`No such bundle: ${opts.bundle}`);
      throw err;
    }
    report(result, ` (bundle ${path.basename(file)})`);
    return;
  }
  await withAudit(
    async (service) => {
      for (const k of extra) service.keys.set(k.kid, publicKeyFromRaw(k.key));
      if (service.keys.size === 0)
        throw fail('No trusted public key: set AUDIT_SIGNING_KEY or AUDIT_TRUSTED_KEYS, or pass --public-key');
      report(await service.verify({ fromSeq: from }));
    },
    { createKey: false },
  );
}

export async function auditExport(opts: { out: string; from?: string; to?: string }): Promise<void> {
  const fromSeq = seqOption(opts.from, '--from');
  const toSeq = seqOption(opts.to, '--to');
  if (fromSeq !== undefined && toSeq !== undefined && fromSeq > toSeq) throw fail('--from must not be after --to');
  await withAudit(
    async (service) => {
      const r = await service.exportBundle({ fromSeq, toSeq, out: path.resolve(opts.out) });
      process.stdout.write(
        `Exported ${r.events} events (seq ${r.fromSeq}-${r.toSeq}) to ${opts.out}, signed at seq ${r.checkpoint.seq}; sha256 ${r.sha256}.\n`,
      );
    },
    { createKey: true },
  );
}

export async function auditPrune(opts: { before?: string; out?: string }): Promise<void> {
  const before = dateOption(opts.before, '--before');
  await withAudit(
    async (service) => {
      const r = await service.prune({ before, out: opts.out ? path.resolve(opts.out) : undefined });
      process.stdout.write(
        r.pruned === 0 && r.toSeq === null
          ? `Nothing to prune: no event is older than ${r.cutoff}.\n`
          : `Pruned ${r.pruned} events (seq ${r.fromSeq}-${r.toSeq}, older than ${r.cutoff}); bundle ${r.bundle} sha256 ${r.bundleSha256}.\n`,
      );
    },
    { createKey: true },
  );
}

export async function auditPublicKey(): Promise<void> {
  const config = loadConfig();
  const key = await resolveSigningKey(config, { create: false });
  if (!key) throw fail('No audit signing key yet: set AUDIT_SIGNING_KEY, or start the server once in embedded mode');
  process.stdout.write(`kid ${key.kid}\npublic key ${key.publicKeyRaw}\n`);
}
