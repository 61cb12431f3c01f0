/**
 * Every SQL statement of account security: one-time tokens, password history, the devices and
 * networks a user signed in from, and the contact form's target. The `users` row itself is read
 * and written through src/users/repository.ts; the one-time token statements join it only to
 * check, in the same statement, the credential version a link was issued under. Every method
 * takes an optional transaction.
 */
import type { Queryable } from '../../platform/db/index.js';

/** What a one-time token was issued for, returned by `consume` and `peek`. */
export interface TokenGrant {
  userId: string;
  purpose: string;
  metadata: Record<string, unknown>;
  createdAt: Date;
  expiresAt: Date;
}

/** A published, public portfolio and its enabled owner: where a contact message goes. */
export interface ContactTarget {
  portfolioId: string;
  title: string;
  ownerId: string;
  ownerEmail: string;
  ownerName: string;
}

const GRANT_COLUMNS = `t.user_id as "userId", t.purpose, t.metadata, t.created_at as "createdAt", t.expires_at as "expiresAt"`;

/** `one_time_tokens`: only SHA-256 of a token is stored, and looked up. */
export class OneTimeTokenRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Stores a token bound to the account's credential version as it is now, in the same
   * statement (a change committed later ends it). False when the user does not exist.
   */
  async insert(
    token: {
      hash: string;
      purpose: string;
      userId: string;
      metadata: Record<string, unknown>;
      createdAt: Date;
      expiresAt: Date;
    },
    tx: Queryable = this.db,
  ): Promise<boolean> {
    const rows = await tx.query(
      `insert into one_time_tokens (token_hash, purpose, user_id, metadata, created_at, expires_at, credential_version)
       select $1, $2, u.id, $4, $5, $6, u.credential_version from users u where u.id = $3
       returning token_hash`,
      [token.hash, token.purpose, token.userId, JSON.stringify(token.metadata), token.createdAt, token.expiresAt],
    );
    return rows.length > 0;
  }

  /**
   * Marks a live token used and returns its grant: one statement, so of two concurrent uses
   * exactly one gets the row. The account row is locked with the token: a credential change
   * waits for this transaction, or (when it committed first) the version no longer matches.
   */
  async consume(hash: string, purpose: string, now: Date, tx: Queryable = this.db): Promise<TokenGrant | undefined> {
    const rows = await tx.query<TokenGrant>(
      `with live as (
         select t.token_hash from one_time_tokens t join users u on u.id = t.user_id
         where t.token_hash = $1 and t.purpose = $2 and t.used_at is null and t.expires_at > $3
           and u.credential_version = t.credential_version
         for update of t, u
       )
       update one_time_tokens t set used_at = $3 from live where t.token_hash = live.token_hash
       returning ${GRANT_COLUMNS}`,
      [hash, purpose, now],
    );
    return rows[0];
  }

  /** The grant of a live token, without using it. */
  async peek(hash: string, purpose: string, now: Date, tx: Queryable = this.db): Promise<TokenGrant | undefined> {
    const rows = await tx.query<TokenGrant>(
      `select ${GRANT_COLUMNS}
       from one_time_tokens t join users u on u.id = t.user_id
       where t.token_hash = $1 and t.purpose = $2 and t.used_at is null and t.expires_at > $3
         and u.credential_version = t.credential_version`,
      [hash, purpose, now],
    );
    return rows[0];
  }

  /** Marks a user's unused tokens used: of one purpose, or all when `purpose` is null. Returns how many. */
  async revoke(userId: string, purpose: string | null, now: Date, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query(
      `update one_time_tokens set used_at = $2
       where user_id = $1 and used_at is null and ($3::text is null or purpose = $3) returning token_hash`,
      [userId, now, purpose],
    );
    return rows.length;
  }

  /** Deletes tokens expired or used before `before`; returns how many. */
  async deleteStale(before: Date, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query(
      `delete from one_time_tokens where expires_at < $1 or used_at < $1 returning token_hash`,
      [before],
    );
    return rows.length;
  }
}

/** `password_history`: the hashes of replaced passwords, newest first. */
export class PasswordHistoryRepository {
  constructor(private readonly db: Queryable) {}

  /** The newest `limit` kept hashes of a user. */
  async recent(userId: string, limit: number, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ hash: string }>(
      `select password_hash as hash from password_history where user_id = $1 order by created_at desc, id desc limit $2`,
      [userId, limit],
    );
    return rows.map((r) => r.hash);
  }

  async insert(
    entry: { id: string; userId: string; passwordHash: string; createdAt: Date },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(`insert into password_history (id, user_id, password_hash, created_at) values ($1, $2, $3, $4)`, [
      entry.id,
      entry.userId,
      entry.passwordHash,
      entry.createdAt,
    ]);
  }

  /** Keeps only the newest `keep` hashes of a user. */
  async trim(userId: string, keep: number, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      `delete from password_history where user_id = $1 and id not in (
         select id from password_history where user_id = $1 order by created_at desc, id desc limit $2)`,
      [userId, keep],
    );
  }

  async count(userId: string, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(`select count(*)::int as n from password_history where user_id = $1`, [
      userId,
    ]);
    return Number(rows[0]?.n ?? 0);
  }
}

/** `login_networks` and `login_devices`: where a user has signed in before (suspicious-login signals). */
export class LoginHistoryRepository {
  constructor(private readonly db: Queryable) {}

  async networks(userId: string, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ prefix: string }>(`select prefix from login_networks where user_id = $1`, [userId]);
    return rows.map((r) => r.prefix);
  }

  async devices(userId: string, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ family: string }>(`select family from login_devices where user_id = $1`, [userId]);
    return rows.map((r) => r.family);
  }

  /** The network prefix and device family of a completed sign-in are known from `now` on. */
  async remember(
    userId: string,
    seen: { prefix: string; family: string },
    now: Date,
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into login_networks (user_id, prefix, first_seen, last_seen) values ($1, $2, $3, $3)
       on conflict (user_id, prefix) do update set last_seen = excluded.last_seen`,
      [userId, seen.prefix, now],
    );
    await tx.query(
      `insert into login_devices (user_id, family, first_seen, last_seen) values ($1, $2, $3, $3)
       on conflict (user_id, family) do update set last_seen = excluded.last_seen`,
      [userId, seen.family, now],
    );
  }
}

/** The contact form's one read: which portfolio and owner a slug names. */
export class ContactRepository {
  constructor(private readonly db: Queryable) {}

  /** A published, public portfolio and its enabled owner, or undefined. */
  async getTargetBySlug(slug: string, tx: Queryable = this.db): Promise<ContactTarget | undefined> {
    const rows = await tx.query<ContactTarget>(
      `select p.id as "portfolioId", p.title, u.id as "ownerId", u.email as "ownerEmail", u.name as "ownerName"
       from portfolios p join users u on u.id = p.owner_id
       where lower(p.slug) = lower($1) and p.published and p.visibility = 'public' and not u.disabled`,
      [slug],
    );
    return rows[0];
  }

  /** The message as the owner received it, with the privacy notice version accepted (null: none configured). */
  async insertMessage(
    m: {
      id: string;
      portfolioId: string;
      recipientId: string;
      senderName: string;
      senderEmail: string;
      message: string;
      mailId: string;
      noticeVersion: string | null;
      noticeAcceptedAt: Date | null;
      createdAt: Date;
    },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into contact_messages (id, portfolio_id, recipient_id, sender_name, sender_email, message, mail_id,
         notice_version, notice_accepted_at, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        m.id,
        m.portfolioId,
        m.recipientId,
        m.senderName,
        m.senderEmail,
        m.message,
        m.mailId,
        m.noticeVersion,
        m.noticeAcceptedAt,
        m.createdAt,
      ],
    );
  }
}
