/**
 * The export's SQL: its own table (`privacy_exports`: the job's claims, the one-time download) and
 * the reads that gather one user's data. Every read names its columns (or takes whole content rows
 * as JSON, so a column added later is exported too) and filters on the subject's id or on the ids
 * of the subject's own portfolios: nothing of another account can match. Secrets are never
 * selected: no password or token hash, no TOTP secret, no backup code, no passkey public key.
 */
import type { Queryable } from '../../../platform/db/index.js';

export type ExportStatus = 'pending' | 'building' | 'ready' | 'downloaded' | 'failed' | 'expired';

export interface ExportRow {
  id: string;
  subjectId: string;
  requestedBy: string;
  status: ExportStatus;
  attempts: number;
  archiveKey: string | null;
  archiveSize: number | null;
  createdAt: Date;
  readyAt: Date | null;
  downloadedAt: Date | null;
  expiresAt: Date | null;
}

const COLUMNS = `id, subject_id as "subjectId", requested_by as "requestedBy", status, attempts,
  archive_key as "archiveKey", archive_size::float8 as "archiveSize", created_at as "createdAt",
  ready_at as "readyAt", downloaded_at as "downloadedAt", expires_at as "expiresAt"`;

/** Content tables whose rows belong to a portfolio (`portfolio_id`), exported whole. */
export const CHILD_TABLES = ['projects', 'sections', 'experiences', 'skills', 'links'] as const;
export type ChildTable = (typeof CHILD_TABLES)[number];

/** Link tables of a portfolio's content (categories, a project's skills). */
const RELATIONS = {
  portfolioCategories: `select to_jsonb(r) as row from portfolio_categories r where r.portfolio_id = any($1::uuid[])`,
  projectCategories: `select to_jsonb(r) as row from project_categories r
    join projects p on p.id = r.project_id where p.portfolio_id = any($1::uuid[])`,
  skillCategories: `select to_jsonb(r) as row from skill_categories r
    join skills s on s.id = r.skill_id where s.portfolio_id = any($1::uuid[])`,
  projectSkills: `select to_jsonb(r) as row from project_skills r
    join projects p on p.id = r.project_id where p.portfolio_id = any($1::uuid[])`,
} as const;
export type RelationName = keyof typeof RELATIONS;
export const RELATION_NAMES = Object.keys(RELATIONS) as RelationName[];

const CHILD_QUERIES: Record<ChildTable, string> = {
  projects: `select to_jsonb(t) as row from projects t where t.portfolio_id = any($1::uuid[]) order by t.portfolio_id, t.position, t.id`,
  sections: `select to_jsonb(t) as row from sections t where t.portfolio_id = any($1::uuid[]) order by t.portfolio_id, t.position, t.id`,
  experiences: `select to_jsonb(t) as row from experiences t where t.portfolio_id = any($1::uuid[]) order by t.portfolio_id, t.position, t.id`,
  skills: `select to_jsonb(t) as row from skills t where t.portfolio_id = any($1::uuid[]) order by t.portfolio_id, t.position, t.id`,
  links: `select to_jsonb(t) as row from links t where t.portfolio_id = any($1::uuid[]) order by t.portfolio_id, t.position, t.id`,
};

type Json = Record<string, unknown>;

export class ExportRepository {
  constructor(private readonly db: Queryable) {}

  // ---- the export rows -------------------------------------------------------------------------

  async insert(
    row: { id: string; subjectId: string; requestedBy: string; createdAt: Date },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into privacy_exports (id, subject_id, requested_by, status, created_at) values ($1, $2, $3, 'pending', $4)`,
      [row.id, row.subjectId, row.requestedBy, row.createdAt],
    );
  }

  /** The requester's export still being prepared for this subject, if any. */
  async inProgress(subjectId: string, requestedBy: string, tx: Queryable = this.db): Promise<string | undefined> {
    const rows = await tx.query<{ id: string }>(
      `select id from privacy_exports
        where subject_id = $1 and requested_by = $2 and status in ('pending', 'building') limit 1`,
      [subjectId, requestedBy],
    );
    return rows[0]?.id;
  }

  /** One export, only if `requestedBy` asked for it (anyone else's is the same undefined as a missing one). */
  async getFor(id: string, requestedBy: string, tx: Queryable = this.db): Promise<ExportRow | undefined> {
    const rows = await tx.query<ExportRow>(
      `select ${COLUMNS} from privacy_exports where id = $1 and requested_by = $2`,
      [id, requestedBy],
    );
    return rows[0];
  }

  async get(id: string, tx: Queryable = this.db): Promise<ExportRow | undefined> {
    const rows = await tx.query<ExportRow>(`select ${COLUMNS} from privacy_exports where id = $1`, [id]);
    return rows[0];
  }

  /**
   * Claims the oldest export to build: a pending one, or one whose builder's claim ran out (a node
   * that died mid-build). `for update skip locked`: two builders never claim the same row.
   */
  async claimNext(now: Date, claimUntil: Date, tx: Queryable = this.db): Promise<ExportRow | undefined> {
    const rows = await tx.query<ExportRow>(
      `update privacy_exports set status = 'building', attempts = attempts + 1, claimed_until = $2
        where id = (
          select id from privacy_exports
           where status = 'pending' or (status = 'building' and claimed_until < $1)
           order by created_at, id limit 1 for update skip locked)
        returning ${COLUMNS}`,
      [now, claimUntil],
    );
    return rows[0];
  }

  /** Built: only while this claim still holds the row (a late builder whose claim was taken writes nothing). */
  async markReady(
    id: string,
    attempts: number,
    archive: { key: string; size: number },
    readyAt: Date,
    expiresAt: Date,
    tx: Queryable = this.db,
  ): Promise<boolean> {
    const rows = await tx.query(
      `update privacy_exports set status = 'ready', archive_key = $3, archive_size = $4, ready_at = $5,
              expires_at = $6, claimed_until = null, last_error = null
        where id = $1 and status = 'building' and attempts = $2 returning id`,
      [id, attempts, archive.key, archive.size, readyAt, expiresAt],
    );
    return rows.length === 1;
  }

  /** A failed build: tried again at the next pass, until `maxAttempts`, then `failed`. */
  async markFailed(id: string, attempts: number, error: string, maxAttempts: number, tx: Queryable = this.db) {
    const rows = await tx.query<{ status: ExportStatus }>(
      `update privacy_exports
          set status = case when attempts >= $3 then 'failed' else 'pending' end,
              claimed_until = null, last_error = $4
        where id = $1 and status = 'building' and attempts = $2 returning status`,
      [id, attempts, maxAttempts, error.slice(0, 500)],
    );
    return rows[0]?.status;
  }

  /**
   * The one-time download: one conditional update, so of two concurrent downloads exactly one
   * gets the archive key. Only the requester's ready export, not yet downloaded or expired.
   */
  async consume(id: string, requestedBy: string, now: Date, tx: Queryable = this.db): Promise<ExportRow | undefined> {
    const rows = await tx.query<ExportRow>(
      `update privacy_exports set status = 'downloaded', downloaded_at = $3
        where id = $1 and requested_by = $2 and status = 'ready' and downloaded_at is null
          and archive_key is not null and expires_at > $3
        returning ${COLUMNS}`,
      [id, requestedBy, now],
    );
    return rows[0];
  }

  /** Archives to delete: downloaded ones, and any past their 7 days. */
  async archivesToDelete(
    now: Date,
    limit: number,
    tx: Queryable = this.db,
  ): Promise<{ id: string; archiveKey: string }[]> {
    return tx.query<{ id: string; archiveKey: string }>(
      `select id, archive_key as "archiveKey" from privacy_exports
        where archive_key is not null and (downloaded_at is not null or expires_at <= $1)
        order by expires_at limit $2`,
      [now, limit],
    );
  }

  /** The archive is gone: the row stays (status `expired` unless downloaded) for the audit trail. */
  async archiveDeleted(id: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      `update privacy_exports set archive_key = null,
              status = case when status = 'downloaded' then status else 'expired' end
        where id = $1`,
      [id],
    );
  }

  // ---- the subject's data ----------------------------------------------------------------------

  async portfolios(subjectId: string, tx: Queryable = this.db): Promise<Json[]> {
    const rows = await tx.query<{ row: Json }>(
      `select to_jsonb(p) as row from portfolios p where p.owner_id = $1 order by p.created_at, p.id`,
      [subjectId],
    );
    return rows.map((r) => r.row);
  }

  async children(table: ChildTable, portfolioIds: readonly string[], tx: Queryable = this.db): Promise<Json[]> {
    if (portfolioIds.length === 0) return [];
    const rows = await tx.query<{ row: Json }>(CHILD_QUERIES[table], [portfolioIds]);
    return rows.map((r) => r.row);
  }

  async relation(name: RelationName, portfolioIds: readonly string[], tx: Queryable = this.db): Promise<Json[]> {
    if (portfolioIds.length === 0) return [];
    const rows = await tx.query<{ row: Json }>(RELATIONS[name], [portfolioIds]);
    return rows.map((r) => r.row);
  }

  /** Media rows of the subject's portfolios (storage keys and quarantine internals are dropped by the caller). */
  async media(portfolioIds: readonly string[], tx: Queryable = this.db): Promise<Json[]> {
    if (portfolioIds.length === 0) return [];
    const rows = await tx.query<{ row: Json }>(
      `select to_jsonb(m) as row from media m where m.portfolio_id = any($1::uuid[]) order by m.created_at, m.id`,
      [portfolioIds],
    );
    return rows.map((r) => r.row);
  }

  async sessions(subjectId: string, tx: Queryable = this.db): Promise<Json[]> {
    return tx.query(
      `select id, created_at as "createdAt", last_seen_at as "lastSeenAt", expires_at as "expiresAt", ip,
              user_agent as "userAgent", browser, os, device, amr, auth_time as "authTime",
              revoked_at as "revokedAt", revoked_reason as "revokedReason"
         from auth_sessions where user_id = $1 order by created_at, id`,
      [subjectId],
    );
  }

  async trustedDevices(subjectId: string, tx: Queryable = this.db): Promise<Json[]> {
    return tx.query(
      `select id, label, created_at as "createdAt", last_used_at as "lastUsedAt", expires_at as "expiresAt",
              revoked_at as "revokedAt"
         from trusted_devices where user_id = $1 order by created_at, id`,
      [subjectId],
    );
  }

  async passkeys(subjectId: string, tx: Queryable = this.db): Promise<Json[]> {
    return tx.query(
      `select id, name, device_type as "deviceType", backed_up as "backedUp", transports,
              created_at as "createdAt", last_used_at as "lastUsedAt"
         from webauthn_credentials where user_id = $1 order by created_at, id`,
      [subjectId],
    );
  }

  /** The TOTP factor's state (never its secret). */
  async totp(subjectId: string, tx: Queryable = this.db): Promise<Json | undefined> {
    const rows = await tx.query<Json>(
      `select confirmed_at as "confirmedAt", created_at as "createdAt", updated_at as "updatedAt"
         from mfa_totp where user_id = $1`,
      [subjectId],
    );
    return rows[0];
  }

  /** How many backup codes exist and are left (never the codes or their hashes). */
  async backupCodes(subjectId: string, tx: Queryable = this.db): Promise<{ total: number; remaining: number }> {
    const rows = await tx.query<{ total: number; remaining: number }>(
      `select count(*)::int as total, count(*) filter (where used_at is null)::int as remaining
         from mfa_backup_codes where user_id = $1`,
      [subjectId],
    );
    return rows[0] ?? { total: 0, remaining: 0 };
  }

  async mfaRequiredSince(subjectId: string, tx: Queryable = this.db): Promise<Date | null> {
    const rows = await tx.query<{ at: Date }>(`select required_since as at from mfa_enforcement where user_id = $1`, [
      subjectId,
    ]);
    return rows[0]?.at ?? null;
  }

  /** Networks (address prefixes) and browser families the subject signed in from (suspicious-login memory). */
  async loginHistory(subjectId: string, tx: Queryable = this.db): Promise<{ networks: Json[]; devices: Json[] }> {
    const networks = await tx.query<Json>(
      `select prefix, first_seen as "firstSeen", last_seen as "lastSeen" from login_networks where user_id = $1 order by first_seen, prefix`,
      [subjectId],
    );
    const devices = await tx.query<Json>(
      `select family, first_seen as "firstSeen", last_seen as "lastSeen" from login_devices where user_id = $1 order by first_seen, family`,
      [subjectId],
    );
    return { networks, devices };
  }

  /** Messages visitors sent through the contact form of the subject's portfolios. */
  async contactMessages(subjectId: string, tx: Queryable = this.db): Promise<Json[]> {
    return tx.query(
      `select id, portfolio_id as "portfolioId", sender_name as "senderName", sender_email as "senderEmail", message,
              notice_version as "privacyNoticeVersion", notice_accepted_at as "privacyNoticeAcceptedAt",
              created_at as "receivedAt"
         from contact_messages where recipient_id = $1 order by created_at, id`,
      [subjectId],
    );
  }

  /** Earlier exports of the subject (the rows, not the archives). */
  async exports(subjectId: string, tx: Queryable = this.db): Promise<Json[]> {
    return tx.query(
      `select id, requested_by as "requestedBy", status, created_at as "createdAt", ready_at as "readyAt",
              downloaded_at as "downloadedAt"
         from privacy_exports where subject_id = $1 order by created_at, id`,
      [subjectId],
    );
  }
}
