/**
 * The retention schedule's SQL (docs/PRIVACY.md "Retention"): for each rule, one statement that
 * counts what is due and one that deletes exactly that, both with the cutoff as `$1`.
 */
import type { Queryable } from '../../../platform/db/index.js';

export type RetentionSetting =
  | 'RETENTION_SESSIONS_DAYS'
  | 'RETENTION_ONE_TIME_TOKENS_DAYS'
  | 'RETENTION_MAIL_DAYS'
  | 'RETENTION_CONTACT_MESSAGES_DAYS'
  | 'RETENTION_SUSPICIOUS_LOGINS_DAYS'
  | 'RETENTION_EXPORTS_DAYS';

export interface RetentionRule {
  /** Stable name (CLI output, audit metadata, docs). */
  name: string;
  table: string;
  setting: RetentionSetting;
  /** What is due, in words (the CLI and docs). */
  due: string;
  where: string;
}

/** Every rule, in the order of the docs' schedule table. */
export const RETENTION_RULES: readonly RetentionRule[] = [
  {
    name: 'sessions',
    table: 'auth_sessions',
    setting: 'RETENTION_SESSIONS_DAYS',
    due: 'expired or revoked before the cutoff (their refresh tokens go with them)',
    where: `expires_at < $1 or revoked_at < $1`,
  },
  {
    name: 'one-time-tokens',
    table: 'one_time_tokens',
    setting: 'RETENTION_ONE_TIME_TOKENS_DAYS',
    due: 'expired or used before the cutoff',
    where: `expires_at < $1 or used_at < $1`,
  },
  {
    name: 'mails',
    table: 'mail_outbox',
    setting: 'RETENTION_MAIL_DAYS',
    due: 'sent or given up, queued before the cutoff (contact messages have their own rule)',
    where: `status in ('sent', 'dead') and template <> 'contact_message' and created_at < $1`,
  },
  {
    name: 'contact-mails',
    table: 'mail_outbox',
    setting: 'RETENTION_CONTACT_MESSAGES_DAYS',
    due: 'contact-form mails sent or given up, queued before the cutoff',
    where: `status in ('sent', 'dead') and template = 'contact_message' and created_at < $1`,
  },
  {
    name: 'contact-messages',
    table: 'contact_messages',
    setting: 'RETENTION_CONTACT_MESSAGES_DAYS',
    due: 'received before the cutoff',
    where: `created_at < $1`,
  },
  {
    name: 'login-networks',
    table: 'login_networks',
    setting: 'RETENTION_SUSPICIOUS_LOGINS_DAYS',
    due: 'last seen before the cutoff',
    where: `last_seen < $1`,
  },
  {
    name: 'login-devices',
    table: 'login_devices',
    setting: 'RETENTION_SUSPICIOUS_LOGINS_DAYS',
    due: 'last seen before the cutoff',
    where: `last_seen < $1`,
  },
  {
    name: 'exports',
    table: 'privacy_exports',
    setting: 'RETENTION_EXPORTS_DAYS',
    due: 'requested before the cutoff, archive already deleted',
    where: `created_at < $1 and archive_key is null`,
  },
];

export class RetentionRepository {
  constructor(private readonly db: Queryable) {}

  async count(rule: RetentionRule, cutoff: Date, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(`select count(*)::int as n from ${rule.table} where ${rule.where}`, [
      cutoff,
    ]);
    return rows[0]?.n ?? 0;
  }

  async delete(rule: RetentionRule, cutoff: Date, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(
      `with gone as (delete from ${rule.table} where ${rule.where} returning 1) select count(*)::int as n from gone`,
      [cutoff],
    );
    return rows[0]?.n ?? 0;
  }

  /** The job's leader lock (transaction-scoped): one pass at a time across nodes. */
  async tryLeaderLock(tx: Queryable): Promise<boolean> {
    const rows = await tx.query<{ ok: boolean }>(
      `select pg_try_advisory_xact_lock(hashtext('portfolio-backend:privacy-retention:' || current_schema())) as ok`,
    );
    return rows[0]?.ok === true;
  }
}
