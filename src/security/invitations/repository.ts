import type { Queryable } from '../../platform/db/index.js';

export interface InvitationRow {
  id: string;
  email: string;
  emailCanonical: string;
  roles: string[];
  invitedBy: string | null;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  acceptedUserId: string | null;
  revokedAt: Date | null;
  revokedBy: string | null;
}

/** A row of the admin list: whether the email has an account now (shown to the admin only). */
export interface InvitationListRow extends InvitationRow {
  accountExists: boolean;
}

const COLUMNS = `i.id, i.email, i.email_canonical as "emailCanonical", i.roles, i.invited_by as "invitedBy",
  i.created_at as "createdAt", i.expires_at as "expiresAt", i.accepted_at as "acceptedAt",
  i.accepted_user_id as "acceptedUserId", i.revoked_at as "revokedAt", i.revoked_by as "revokedBy"`;

/** All SQL on invitations. Every method takes an optional transaction. */
export class InvitationRepository {
  constructor(private readonly db: Queryable) {}

  async insert(
    row: Pick<InvitationRow, 'id' | 'email' | 'emailCanonical' | 'roles' | 'invitedBy' | 'createdAt' | 'expiresAt'> & {
      tokenHash: string;
    },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into invitations (id, email, email_canonical, roles, token_hash, invited_by, created_at, expires_at)
       values ($1, $2, $3, $4::text[], $5, $6, $7, $8)`,
      [row.id, row.email, row.emailCanonical, row.roles, row.tokenHash, row.invitedBy, row.createdAt, row.expiresAt],
    );
  }

  async get(
    id: string,
    tx: Queryable = this.db,
    options: { forUpdate?: boolean } = {},
  ): Promise<InvitationRow | undefined> {
    const rows = await tx.query<InvitationRow>(
      `select ${COLUMNS} from invitations i where i.id = $1${options.forUpdate ? ' for update' : ''}`,
      [id],
    );
    return rows[0];
  }

  /** The invitation a token names (by its SHA-256); locked for the caller's transaction when asked. */
  async byTokenHash(
    hash: string,
    tx: Queryable = this.db,
    options: { forUpdate?: boolean } = {},
  ): Promise<InvitationRow | undefined> {
    const rows = await tx.query<InvitationRow>(
      `select ${COLUMNS} from invitations i where i.token_hash = $1${options.forUpdate ? ' for update' : ''}`,
      [hash],
    );
    return rows[0];
  }

  /** Withdraws every open invitation of an email (a new one supersedes them): their ids. */
  async revokeOpenFor(emailCanonical: string, by: string | null, at: Date, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `update invitations set revoked_at = $3, revoked_by = $2
       where email_canonical = $1 and accepted_at is null and revoked_at is null returning id`,
      [emailCanonical, by, at],
    );
    return rows.map((r) => r.id);
  }

  /** Withdraws one invitation unless it was accepted or withdrawn already: true when it did. */
  async revoke(id: string, by: string | null, at: Date, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query<{ id: string }>(
      `update invitations set revoked_at = $3, revoked_by = $2
       where id = $1 and accepted_at is null and revoked_at is null returning id`,
      [id, by, at],
    );
    return rows.length === 1;
  }

  /** Uses the invitation up (single use: only an open one): true when it did. */
  async markAccepted(id: string, userId: string, at: Date, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query<{ id: string }>(
      `update invitations set accepted_at = $3, accepted_user_id = $2
       where id = $1 and accepted_at is null and revoked_at is null returning id`,
      [id, userId, at],
    );
    return rows.length === 1;
  }

  /**
   * Housekeeping: deletes invitations that ended (accepted, revoked, or expired unused) at or
   * before `before`; how many. An open invitation whose expiry is still ahead is never touched.
   */
  async deleteEndedBefore(before: Date, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ id: string }>(
      `delete from invitations where coalesce(accepted_at, revoked_at, expires_at) <= $1 returning id`,
      [before],
    );
    return rows.length;
  }

  /**
   * Newest first (ids are UUID v7), `limit` rows after the cursor id. The join with `users`
   * stays in this one statement: the admin sees whether the email has an account now.
   */
  async list(
    page: { limit: number; before?: string | undefined },
    tx: Queryable = this.db,
  ): Promise<InvitationListRow[]> {
    return tx.query<InvitationListRow>(
      `select ${COLUMNS},
         exists (select 1 from users u where u.email_canonical = i.email_canonical) as "accountExists"
       from invitations i where ($1::uuid is null or i.id < $1::uuid) order by i.id desc limit $2`,
      [page.before ?? null, page.limit],
    );
  }
}
