/**
 * All SQL of account erasure (docs/PRIVACY.md, "Erasure"): the pending request on the user row,
 * the last-admin rule, the job's claim, and the statements that erase one account and leave its
 * tombstone. The statements take the user id as `$1` and the time as `$2` only, so the backup
 * restore can run the very same text with those two written as checked literals (`literalErasure`).
 */
import type { Queryable } from '../../../platform/db/index.js';
import { isUuid } from '../../../platform/ids.js';

export interface PendingErasure {
  userId: string;
  requestedAt: Date;
  dueAt: Date;
  requestedBy: string | null;
  startedAt: Date | null;
}

export interface ErasureSubject {
  id: string;
  email: string;
  emailCanonical: string;
  name: string;
  erasedAt: Date | null;
}

/** Folds A-Z exactly as `users.email_canonical` does (migration 0007). */
const FOLD = `'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'`;

/** The placeholder email of a tombstone: derived from the id (unique, NOT NULL), no personal data. */
export const TOMBSTONE_DOMAIN = 'erased.invalid';
export const TOMBSTONE_NAME = 'Erased account';

/**
 * Erases one account, in order (the tombstone last: the statements before it find the account's
 * email through the row). Every statement is idempotent: a second run changes nothing.
 * Audit events are not touched (the chain must verify): the keys of their personal data are
 * destroyed instead (crypto-shredding, docs/PRIVACY.md).
 */
export const ERASURE_STATEMENTS: readonly string[] = [
  // Mails to or about the account: its address as recipient or reply-to (equal, so that
  // jimbob@ is not bob@), or anywhere in the subject or a body.
  `delete from mail_outbox o using users u where u.id = $1 and u.erased_at is null and (
     translate(btrim(o.to_address), ${FOLD}) = u.email_canonical
     or translate(btrim(coalesce(o.reply_to, '')), ${FOLD}) = u.email_canonical
     or strpos(translate(o.subject, ${FOLD}), u.email_canonical) > 0
     or strpos(translate(o.text_body, ${FOLD}), u.email_canonical) > 0
     or strpos(translate(coalesce(o.html_body, ''), ${FOLD}), u.email_canonical) > 0)`,
  // Invitations addressed to the account's email (the accepted one holds it too).
  `delete from invitations i using users u where u.id = $1 and u.erased_at is null
     and (i.email_canonical = u.email_canonical or i.accepted_user_id = u.id)`,
  // Contact messages it received, and the ones it sent to other portfolios with its email.
  `delete from contact_messages c using users u where u.id = $1 and u.erased_at is null
     and (c.recipient_id = u.id or translate(btrim(c.sender_email), ${FOLD}) = u.email_canonical)`,
  `delete from privacy_exports where subject_id = $1 or requested_by = $1`,
  // Its content: portfolios and every child (media rows, preview links, relations) by cascade.
  `delete from portfolios where owner_id = $1`,
  `delete from refresh_tokens where user_id = $1`,
  `delete from auth_sessions where user_id = $1`,
  `delete from trusted_devices where user_id = $1`,
  `delete from webauthn_credentials where user_id = $1`,
  `delete from mfa_totp where user_id = $1`,
  `delete from mfa_backup_codes where user_id = $1`,
  `delete from mfa_challenges where user_id = $1`,
  `delete from mfa_enforcement where user_id = $1`,
  `delete from one_time_tokens where user_id = $1`,
  `delete from password_history where user_id = $1`,
  `delete from login_networks where user_id = $1`,
  `delete from login_devices where user_id = $1`,
  `delete from user_roles where user_id = $1`,
  // Crypto-shredding (src/security/audit/pii.ts): the data keys of its personal data in the audit
  // log are destroyed and its root marked erased; the events and the chain stay. (The service also
  // shreds the subject of its email address, whose HMAC key SQL does not have.)
  `update audit_pii_keys set wrapped = null, destroyed_at = $2::timestamptz, destroyed_reason = 'erasure'
     where wrapped is not null and split_part(subject, '/', 1) = 'u:' || $1::text`,
  `insert into audit_pii_keys (subject, wrapped, bucket_end, created_at, destroyed_at, destroyed_reason)
     values ('u:' || $1::text, null, null, $2::timestamptz, $2::timestamptz, 'erasure') on conflict (subject) do nothing`,
  // The tombstone: the id stays (audit events, other people's content point at it), nothing else.
  `update users set
     email = 'erased-' || id::text || '@${TOMBSTONE_DOMAIN}',
     name = '${TOMBSTONE_NAME}',
     password_hash = '!erased',
     must_change_password = false,
     disabled = true,
     email_verified_at = null,
     email_verification_pending = false,
     token_version = token_version + 1,
     credential_version = credential_version + 1,
     deletion_requested_at = null,
     deletion_due_at = null,
     deletion_requested_by = null,
     erasure_started_at = coalesce(erasure_started_at, $2::timestamptz),
     erased_at = coalesce(erased_at, $2::timestamptz),
     updated_at = $2::timestamptz
   where id = $1`,
];

/** A statement's text with `$1` and `$2` written as literals (a uuid and an ISO time, both checked). */
export function literalErasure(userId: string, at: Date): string[] {
  if (!isUuid(userId)) throw new Error('not a user id');
  const time = at.toISOString();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(time)) throw new Error('not a time');
  return ERASURE_STATEMENTS.map((sql) =>
    sql.replace(/\$1(?!\d)/g, `'${userId}'::uuid`).replace(/\$2(?!\d)/g, `'${time}'`),
  );
}

/** All SQL of account erasure. Every method takes an optional transaction. */
export class ErasureRepository {
  constructor(private readonly db: Queryable) {}

  /** Serialises erasure requests with role and status changes (the roles module's lock). */
  async lockRoles(tx: Queryable): Promise<void> {
    await tx.query(`select pg_advisory_xact_lock(hashtext('portfolio-backend:roles'))`);
  }

  /**
   * Enabled accounts other than `userId`, without a pending or finished erasure, holding
   * user:manage through a role not limited to languages. Run under `lockRoles`: two admins
   * erasing each other at once are decided one after the other, and the second sees the first's
   * pending erasure (which no longer counts).
   */
  async otherManagers(userId: string, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(
      `select count(distinct u.id)::int as n from users u
         join user_roles ur on ur.user_id = u.id
         join roles r on r.name = ur.role and r.languages is null
         join role_permissions rp on rp.role = ur.role and rp.permission = 'user:manage'
       where not u.disabled and u.deletion_due_at is null and u.erased_at is null and u.id <> $1`,
      [userId],
    );
    return rows[0]?.n ?? 0;
  }

  /** Whether the account holds user:manage through a role not limited to languages. */
  async isManager(userId: string, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query<{ ok: boolean }>(
      `select exists (select 1 from user_roles ur
         join roles r on r.name = ur.role and r.languages is null
         join role_permissions rp on rp.role = ur.role and rp.permission = 'user:manage'
       where ur.user_id = $1) as ok`,
      [userId],
    );
    return rows[0]?.ok === true;
  }

  async subject(userId: string, tx: Queryable = this.db): Promise<ErasureSubject | undefined> {
    const rows = await tx.query<ErasureSubject>(
      `select id, email, email_canonical as "emailCanonical", name, erased_at as "erasedAt"
         from users where id = $1`,
      [userId],
    );
    return rows[0];
  }

  async pending(userId: string, tx: Queryable = this.db): Promise<PendingErasure | undefined> {
    const rows = await tx.query<PendingErasure>(
      `select id as "userId", deletion_requested_at as "requestedAt", deletion_due_at as "dueAt",
              deletion_requested_by as "requestedBy", erasure_started_at as "startedAt"
         from users where id = $1 and deletion_due_at is not null and erased_at is null`,
      [userId],
    );
    return rows[0];
  }

  /**
   * Marks the erasure as requested, unless one is pending already (then it keeps its due time).
   * Returns the pending erasure as it is now; undefined for an unknown or erased account.
   */
  async request(
    userId: string,
    requestedBy: string,
    at: Date,
    dueAt: Date,
    tx: Queryable = this.db,
  ): Promise<{ pending: PendingErasure; created: boolean } | undefined> {
    const set = await tx.query<PendingErasure>(
      `update users set deletion_requested_at = $2, deletion_due_at = $3, deletion_requested_by = $4, updated_at = $2
        where id = $1 and deletion_due_at is null and erased_at is null
        returning id as "userId", deletion_requested_at as "requestedAt", deletion_due_at as "dueAt",
                  deletion_requested_by as "requestedBy", erasure_started_at as "startedAt"`,
      [userId, at, dueAt, requestedBy],
    );
    if (set[0]) return { pending: set[0], created: true };
    const existing = await this.pending(userId, tx);
    return existing ? { pending: existing, created: false } : undefined;
  }

  /**
   * Cancels a pending erasure the job has not started. `onlySelf`: only one the account asked
   * for itself (a sign-in does not cancel an admin's order). True when one was cancelled.
   */
  async cancel(userId: string, onlySelf: boolean, at: Date, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query<{ id: string }>(
      `update users set deletion_requested_at = null, deletion_due_at = null, deletion_requested_by = null, updated_at = $2
        where id = $1 and deletion_due_at is not null and erasure_started_at is null and erased_at is null
          and ($3::boolean = false or deletion_requested_by = id)
        returning id`,
      [userId, at, onlySelf],
    );
    return rows.length > 0;
  }

  /**
   * Claims due erasures (and resumes started ones): one statement, so a cancel either commits
   * before (the row is no longer due) or is refused after (erasure_started_at is set).
   */
  async claimDue(now: Date, limit: number, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `update users set erasure_started_at = coalesce(erasure_started_at, $1)
        where id in (select id from users
                      where erased_at is null
                        and (erasure_started_at is not null or deletion_due_at <= $1)
                      order by coalesce(erasure_started_at, deletion_due_at), id
                      limit $2)
        returning id`,
      [now, limit],
    );
    return rows.map((r) => r.id);
  }

  /** Locks the account's row for the erasure's transaction; false when it is already a tombstone. */
  async lockForErasure(userId: string, tx: Queryable): Promise<boolean> {
    const rows = await tx.query<{ erased: boolean }>(
      `select erased_at is not null as erased from users where id = $1 for update`,
      [userId],
    );
    return rows[0] !== undefined && !rows[0].erased;
  }

  /** Object keys in the upload store of the account's media (every variant and quarantined original). */
  async mediaKeys(userId: string, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ key: string }>(
      `select v.value ->> 'key' as key
         from media m join portfolios p on p.id = m.portfolio_id, jsonb_each(m.variants) v
        where p.owner_id = $1 and v.value ->> 'key' is not null
       union
       select m.quarantine_key from media m join portfolios p on p.id = m.portfolio_id
        where p.owner_id = $1 and m.quarantine_key is not null`,
      [userId],
    );
    return rows.map((r) => r.key);
  }

  /** Object keys of the account's export archives (the export job's store). */
  async exportKeys(userId: string, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ key: string }>(
      `select archive_key as key from privacy_exports
        where (subject_id = $1 or requested_by = $1) and archive_key is not null`,
      [userId],
    );
    return rows.map((r) => r.key);
  }

  /** Counts of what the erasure removes, for its audit event (numbers only). */
  async counts(userId: string, tx: Queryable = this.db): Promise<{ portfolios: number; media: number }> {
    const rows = await tx.query<{ portfolios: number; media: number }>(
      `select (select count(*)::int from portfolios where owner_id = $1) as portfolios,
              (select count(*)::int from media m join portfolios p on p.id = m.portfolio_id where p.owner_id = $1) as media`,
      [userId],
    );
    return rows[0] ?? { portfolios: 0, media: 0 };
  }

  async runErasure(userId: string, at: Date, tx: Queryable): Promise<void> {
    for (const sql of ERASURE_STATEMENTS) await tx.query(sql, /\$2(?!\d)/.test(sql) ? [userId, at] : [userId]);
  }

  /** Tombstones whose erasure is not in the ledger file yet (a crash between commit and write). */
  async unledgered(tx: Queryable = this.db): Promise<{ userId: string; erasedAt: Date }[]> {
    return tx.query<{ userId: string; erasedAt: Date }>(
      `select id as "userId", erased_at as "erasedAt" from users
        where erased_at is not null and erasure_ledgered_at is null order by erased_at, id limit 500`,
    );
  }

  async markLedgered(userIds: readonly string[], at: Date, tx: Queryable = this.db): Promise<void> {
    if (userIds.length === 0) return;
    await tx.query(`update users set erasure_ledgered_at = $2 where id = any($1::uuid[])`, [[...userIds], at]);
  }
}

/** The schema version that has the erasure columns (migration 0017). */
export const ERASURE_SCHEMA_VERSION = 17;

/**
 * The SQL that erases again, in a restored database, everyone in `subjects` (the erasure ledger's
 * entries newer than the backup): one script run inside the restore's transaction, before it
 * commits. A backup older than migration 0017 gets that migration's columns first (an additive
 * change; the server applies the migrations in between at its next start). A table the backup's
 * schema does not have yet holds nothing to erase (`undefined_table` is skipped, nothing else is).
 */
export function reapplySql(
  subjects: readonly { subject: string; erasedAt: Date }[],
  schemaVersion: number,
  erasureMigration: { id: number; name: string; sql: string },
): string {
  if (subjects.length === 0) return '';
  // The dump leaves an empty search_path behind; the application's tables are in public.
  const parts: string[] = ['SET LOCAL search_path TO public;'];
  if (schemaVersion < ERASURE_SCHEMA_VERSION) {
    parts.push(erasureMigration.sql);
    parts.push(
      `insert into schema_migrations (id, name) values (${Number(erasureMigration.id)}, '${erasureMigration.name.replace(/[^a-z_]/g, '')}') on conflict do nothing;`,
    );
  }
  for (const s of subjects) {
    for (const statement of literalErasure(s.subject, s.erasedAt)) {
      parts.push(`DO $reapply$ BEGIN ${statement}; EXCEPTION WHEN undefined_table THEN NULL; END $reapply$;`);
    }
  }
  return `${parts.join('\n')}\n`;
}
