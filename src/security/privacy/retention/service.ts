/**
 * Retention (issue 19, part 6; docs/PRIVACY.md "Retention"): every table that holds personal data
 * has a rule and a RETENTION_* setting (./repository.ts). Every node runs the job hourly
 * (src/platform/housekeeping.ts); only the holder of the KV leader lease does a pass, and the pass
 * runs under the database's leader lock in one transaction (one pass at a time even when the KV
 * is down). `plan` (the CLI's --dry-run) counts what a pass would delete, with the same cutoffs
 * and predicates, and deletes nothing.
 *
 * The file transport's mails (DATA_DIR/outbox/*.eml, no SMTP_URL) follow RETENTION_MAIL_DAYS by
 * their modification time.
 */
import { stat, unlink } from 'node:fs/promises';
import { dirNames } from '../../../platform/dir-names.js';
import path from 'node:path';
import type { Config } from '../../../config/index.js';
import type { Clock } from '../../../platform/clock.js';
import type { Db, Queryable } from '../../../platform/db/index.js';
import type { Kv } from '../../../platform/kv/index.js';
import { KvLease } from '../../../platform/kv/lease.js';
import { AUDIT_ACTIONS } from '../../audit/actions.js';
import type { AuditEventInput } from '../../audit/event.js';
import { RETENTION_RULES, RetentionRepository, type RetentionRule, type RetentionSetting } from './repository.js';

export const RETENTION_LEASE_KEY = 'privacy-retention:leader';
const DAY_MS = 86_400_000;

export interface RetentionLine {
  rule: string;
  table: string;
  setting: RetentionSetting | 'AUDIT_PII_RETENTION_DAYS';
  days: number;
  cutoff: string;
  due: string;
  /** Rows (or files) due: what `--dry-run` lists, or what the pass deleted. */
  rows: number;
}

export interface RetentionResult {
  leader: boolean;
  dryRun: boolean;
  lines: RetentionLine[];
}

export interface RetentionDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, RetentionSetting>;
  kv?: Kv;
  audit?: { record(event: AuditEventInput, tx?: Queryable): Promise<void> };
  /**
   * The audit log's personal data (AUDIT_PII_RETENTION_DAYS): its monthly data keys are destroyed,
   * the events and the chain stay (src/security/audit/pii.ts). Absent: not part of the pass.
   */
  auditPii?: {
    shredExpiredPii(options?: { dryRun?: boolean }): Promise<{ keys: number; cutoff: string }>;
    readonly piiRetentionDays: number;
  };
  /** DATA_DIR/outbox when mail goes to files; null otherwise. */
  outboxDir: string | null;
  log?: { warn(obj: object, msg: string): void };
}

export class RetentionService {
  readonly repo: RetentionRepository;
  private readonly lease: KvLease | null;

  constructor(private readonly o: RetentionDeps) {
    this.repo = new RetentionRepository(o.db);
    // An hourly job: the lease outlives one pass comfortably and is renewed by the next.
    this.lease = o.kv ? new KvLease(o.kv, RETENTION_LEASE_KEY, 2 * 3_600_000) : null;
  }

  private line(
    rule: Pick<RetentionRule, 'name' | 'table' | 'setting' | 'due'>,
    now: Date,
    rows: number,
  ): RetentionLine {
    const days = this.o.config[rule.setting];
    return {
      rule: rule.name,
      table: rule.table,
      setting: rule.setting,
      days,
      cutoff: this.cutoff(rule.setting, now).toISOString(),
      due: rule.due,
      rows,
    };
  }

  private cutoff(setting: RetentionSetting, now: Date): Date {
    return new Date(now.getTime() - this.o.config[setting] * DAY_MS);
  }

  /** What a pass would delete now (nothing is changed). */
  async plan(): Promise<RetentionResult> {
    const now = this.o.clock.now();
    const lines: RetentionLine[] = [];
    for (const rule of RETENTION_RULES)
      lines.push(this.line(rule, now, await this.repo.count(rule, this.cutoff(rule.setting, now))));
    lines.push(this.line(OUTBOX_FILES, now, (await this.dueFiles(now)).length));
    if (this.o.auditPii) lines.push(this.auditLine(await this.o.auditPii.shredExpiredPii({ dryRun: true })));
    return { leader: true, dryRun: true, lines };
  }

  /** One pass: deletes what is due, if this node leads; audited with the counts. */
  async run(): Promise<RetentionResult> {
    if (!(await this.leads())) return { leader: false, dryRun: false, lines: [] };
    const now = this.o.clock.now();
    const lines = await this.o.db.transaction(async (tx) => {
      if (!(await this.repo.tryLeaderLock(tx))) return null;
      const out: RetentionLine[] = [];
      for (const rule of RETENTION_RULES)
        out.push(this.line(rule, now, await this.repo.delete(rule, this.cutoff(rule.setting, now), tx)));
      const deleted = out.filter((l) => l.rows > 0);
      if (deleted.length > 0)
        await this.o.audit?.record(
          {
            action: AUDIT_ACTIONS.privacyRetentionApplied,
            actor: 'system',
            outcome: 'success',
            metadata: { deleted: Object.fromEntries(deleted.map((l) => [l.rule, l.rows])) },
          },
          tx,
        );
      return out;
    });
    if (lines === null) return { leader: false, dryRun: false, lines: [] };
    let files = 0;
    for (const file of await this.dueFiles(now)) {
      await unlink(file).catch(() => undefined);
      files++;
    }
    lines.push(this.line(OUTBOX_FILES, now, files));
    if (this.o.auditPii) lines.push(this.auditLine(await this.o.auditPii.shredExpiredPii()));
    return { leader: true, dryRun: false, lines };
  }

  private auditLine(r: { keys: number; cutoff: string }): RetentionLine {
    return {
      rule: AUDIT_PII.name,
      table: AUDIT_PII.table,
      setting: AUDIT_PII.setting,
      days: this.o.auditPii?.piiRetentionDays ?? 0,
      cutoff: r.cutoff,
      due: AUDIT_PII.due,
      rows: r.keys,
    };
  }

  private async leads(): Promise<boolean> {
    if (!this.lease) return true;
    try {
      return await this.lease.acquire();
    } catch (err) {
      this.o.log?.warn({ err }, 'retention: leader lease unavailable, falling back to the database lock');
      return true;
    }
  }

  /** Mail files of the file transport older than RETENTION_MAIL_DAYS. */
  private async dueFiles(now: Date): Promise<string[]> {
    const dir = this.o.outboxDir;
    if (!dir) return [];
    const names = await dirNames(dir);
    const cutoff = this.cutoff('RETENTION_MAIL_DAYS', now).getTime();
    const out: string[] = [];
    for (const name of names.filter((n) => n.endsWith('.eml')).sort()) {
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => null);
      if (info && info.mtimeMs < cutoff) out.push(file);
    }
    return out;
  }
}

const OUTBOX_FILES = {
  name: 'mail-files',
  table: 'DATA_DIR/outbox/*.eml',
  setting: 'RETENTION_MAIL_DAYS' as const,
  due: 'mail files of the file transport (no SMTP_URL) last written before the cutoff',
};

const AUDIT_PII = {
  name: 'audit-pii',
  table: 'audit_pii_keys',
  setting: 'AUDIT_PII_RETENTION_DAYS' as const,
  due: 'data keys of audit personal data (IP, user agent, emails) for months ended before the cutoff: destroyed, the events and the chain stay',
};

/** The schedule as the docs show it (scripts and tests compare the two). */
export function retentionSchedule(): { rule: string; table: string; setting: RetentionSetting; due: string }[] {
  return [...RETENTION_RULES, OUTBOX_FILES].map((r) => ({
    rule: r.name,
    table: r.table,
    setting: r.setting,
    due: r.due,
  }));
}
