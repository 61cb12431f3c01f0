/**
 * Every SQL statement of token security: sessions, refresh tokens, the jti denylist and the
 * signing keys. What tokens need of a user (its version, status, roles) is read through
 * src/users/repository.ts, the one home of `users` SQL.
 */
import type { JWK } from 'jose';
import type { Db, Queryable } from '../../platform/db/index.js';
import { UsersRepository, type UserAuthRow } from '../../users/repository.js';
import type { AccessClaims, RefreshClaims } from './claims.js';

export interface SessionRow {
  id: string;
  userId: string;
  familyId: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  browser: string | null;
  os: string | null;
  device: string | null;
  amr: string[];
  authTime: Date;
  revokedAt: Date | null;
}

export interface NewSession {
  id: string;
  userId: string;
  familyId: string;
  now: Date;
  expiresAt: Date;
  ip: string;
  userAgent: string;
  browser: string | null;
  os: string | null;
  device: string | null;
  amr: string[];
  authTime: Date;
}

/** What a spent refresh token remembers: the successor pair's claims and key, to re-sign it. */
export interface Successor {
  kid: string;
  access: AccessClaims;
  refresh: RefreshClaims;
}

export interface RefreshRow {
  jti: string;
  sessionId: string;
  familyId: string;
  userId: string;
  fgp: string;
  spentAt: Date | null;
  spentFgp: string | null;
  successor: Successor | null;
  revokedAt: Date | null;
  sessionRevokedAt: Date | null;
}

/** A user as token checks see it: `UsersRepository.getAuth`. */
export type UserTokenState = UserAuthRow;

const SESSION_COLUMNS = `id, user_id as "userId", family_id as "familyId", created_at as "createdAt",
  last_seen_at as "lastSeenAt", expires_at as "expiresAt", ip, user_agent as "userAgent", browser, os, device,
  amr, auth_time as "authTime", revoked_at as "revokedAt"`;

export class TokenRepository {
  constructor(
    readonly db: Db,
    private readonly users: UsersRepository = new UsersRepository(db),
  ) {}

  async userState(id: string, q: Queryable = this.db): Promise<UserTokenState | undefined> {
    return this.users.getAuth(id, q);
  }

  /** Kills every token issued before: returns the new version. */
  async bumpTokenVersion(userId: string, q: Queryable = this.db): Promise<number | undefined> {
    return this.users.bumpTokenVersion(userId, q);
  }

  async createSession(s: NewSession, q: Queryable = this.db): Promise<void> {
    await q.query(
      `insert into auth_sessions (id, user_id, family_id, created_at, last_seen_at, expires_at, ip, user_agent, browser, os, device, amr, auth_time)
       values ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [s.id, s.userId, s.familyId, s.now, s.expiresAt, s.ip, s.userAgent, s.browser, s.os, s.device, s.amr, s.authTime],
    );
  }

  async sessionRevoked(id: string, q: Queryable = this.db): Promise<boolean> {
    const rows = await q.query<{ revoked: boolean }>(
      `select revoked_at is not null as revoked from auth_sessions where id = $1`,
      [id],
    );
    // A session that no longer exists (user deleted) counts as revoked.
    return rows[0]?.revoked ?? true;
  }

  async listSessions(userId: string, now: Date, q: Queryable = this.db): Promise<SessionRow[]> {
    return q.query<SessionRow>(
      `select ${SESSION_COLUMNS} from auth_sessions
        where user_id = $1 and revoked_at is null and expires_at > $2 order by last_seen_at desc limit 200`,
      [userId, now],
    );
  }

  /** Revokes one session of a user (and its refresh family); false when it is not theirs or already ended. */
  async revokeSession(
    userId: string | null,
    sessionId: string,
    reason: string,
    now: Date,
    q: Queryable = this.db,
  ): Promise<boolean> {
    const rows = await q.query<{ familyId: string }>(
      `update auth_sessions set revoked_at = $3, revoked_reason = $4
        where id = $1 and ($2::uuid is null or user_id = $2::uuid) and revoked_at is null returning family_id as "familyId"`,
      [sessionId, userId, now, reason],
    );
    if (rows.length === 0) return false;
    await q.query(`update refresh_tokens set revoked_at = $2 where session_id = $1 and revoked_at is null`, [
      sessionId,
      now,
    ]);
    return true;
  }

  /** Revokes every live session of a user except one (password change, "sign out other devices"). */
  async revokeOtherSessions(
    userId: string,
    keepSessionId: string,
    reason: string,
    now: Date,
    q: Queryable = this.db,
  ): Promise<string[]> {
    const rows = await q.query<{ id: string }>(
      `update auth_sessions set revoked_at = $3, revoked_reason = $4 where user_id = $1 and id <> $2 and revoked_at is null returning id`,
      [userId, keepSessionId, now, reason],
    );
    await q.query(
      `update refresh_tokens set revoked_at = $3 where user_id = $1 and session_id <> $2 and revoked_at is null`,
      [userId, keepSessionId, now],
    );
    return rows.map((r) => r.id);
  }

  /** Revokes every live session of a user; returns their ids. */
  async revokeAllSessions(userId: string, reason: string, now: Date, q: Queryable = this.db): Promise<string[]> {
    const rows = await q.query<{ id: string }>(
      `update auth_sessions set revoked_at = $2, revoked_reason = $3 where user_id = $1 and revoked_at is null returning id`,
      [userId, now, reason],
    );
    await q.query(`update refresh_tokens set revoked_at = $2 where user_id = $1 and revoked_at is null`, [userId, now]);
    return rows.map((r) => r.id);
  }

  async touchSession(id: string, now: Date, q: Queryable = this.db): Promise<void> {
    await q.query(`update auth_sessions set last_seen_at = $2 where id = $1 and last_seen_at < $2`, [id, now]);
  }

  async insertRefresh(c: RefreshClaims, q: Queryable = this.db): Promise<void> {
    await q.query(
      `insert into refresh_tokens (jti, session_id, family_id, user_id, fgp, issued_at, expires_at)
       values ($1, $2, $3, $4, $5, to_timestamp($6), to_timestamp($7))`,
      [c.jti, c.sid, c.fam, c.sub, c.fgp, c.iat, c.exp],
    );
  }

  /**
   * The compare-and-set at the heart of rotation: marks the token spent only if nobody did
   * before. Under concurrency exactly one caller gets `true`; the row lock makes the others wait
   * for that commit and then see the token spent, with its successor.
   */
  async claimRefresh(jti: string, spentFgp: string, successor: Successor, now: Date, q: Queryable): Promise<boolean> {
    const rows = await q.query(
      `update refresh_tokens set spent_at = $2, spent_fgp = $3, successor = $4
        where jti = $1 and spent_at is null and revoked_at is null
          and exists (select 1 from auth_sessions s where s.id = refresh_tokens.session_id and s.revoked_at is null)
        returning jti`,
      [jti, now, spentFgp, JSON.stringify(successor)],
    );
    return rows.length === 1;
  }

  async getRefresh(jti: string, q: Queryable = this.db): Promise<RefreshRow | undefined> {
    const rows = await q.query<RefreshRow>(
      `select r.jti, r.session_id as "sessionId", r.family_id as "familyId", r.user_id as "userId", r.fgp,
              r.spent_at as "spentAt", r.spent_fgp as "spentFgp", r.successor, r.revoked_at as "revokedAt",
              s.revoked_at as "sessionRevokedAt"
         from refresh_tokens r join auth_sessions s on s.id = r.session_id where r.jti = $1`,
      [jti],
    );
    const row = rows[0];
    if (row && typeof row.successor === 'string') row.successor = JSON.parse(row.successor) as Successor;
    return row;
  }

  async extendSession(id: string, now: Date, expiresAt: Date, q: Queryable): Promise<void> {
    await q.query(`update auth_sessions set last_seen_at = $2, expires_at = $3 where id = $1`, [id, now, expiresAt]);
  }

  async denyJti(
    jti: string,
    userId: string | null,
    expiresAt: Date,
    reason: string,
    now: Date,
    q: Queryable = this.db,
  ): Promise<void> {
    await q.query(
      `insert into revoked_tokens (jti, user_id, expires_at, revoked_at, reason) values ($1, $2, $3, $4, $5) on conflict (jti) do nothing`,
      [jti, userId, expiresAt, now, reason],
    );
  }

  async jtiRevoked(jti: string, q: Queryable = this.db): Promise<boolean> {
    const rows = await q.query(`select 1 from revoked_tokens where jti = $1`, [jti]);
    return rows.length > 0;
  }

  async liveDenylist(now: Date, q: Queryable = this.db): Promise<{ jti: string; expiresAt: Date }[]> {
    return q.query(`select jti, expires_at as "expiresAt" from revoked_tokens where expires_at > $1`, [now]);
  }

  /** Housekeeping: rows whose tokens have all expired carry no information any more. */
  async purgeExpired(
    now: Date,
    q: Queryable = this.db,
  ): Promise<{ refresh: number; denylist: number; sessions: number }> {
    const refresh = await q.query(`delete from refresh_tokens where expires_at < $1 returning jti`, [now]);
    const denylist = await q.query(`delete from revoked_tokens where expires_at < $1 returning jti`, [now]);
    const sessions = await q.query(
      `delete from auth_sessions s where s.expires_at < $1 and not exists (select 1 from refresh_tokens r where r.session_id = s.id) returning id`,
      [now],
    );
    return { refresh: refresh.length, denylist: denylist.length, sessions: sessions.length };
  }
}

/** A stored signing key (src/security/tokens/keys.ts); the private half is encrypted. */
export interface KeyRow {
  kid: string;
  alg: string;
  public_jwk: JWK;
  private_key: string;
  created_at: Date;
  retired_at: Date | null;
  expires_at: Date | null;
}

/** The `signing_keys` table of the JWT key ring. */
export class KeyRepository {
  constructor(readonly db: Db) {}

  /** Serialises changes to the ring (two nodes booting or rotating at once); held until the transaction ends. */
  async lock(tx: Queryable): Promise<void> {
    await tx.query(`select pg_advisory_xact_lock(hashtext('signing_keys'))`);
  }

  async countActive(tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(`select count(*)::int as n from signing_keys where retired_at is null`);
    return rows[0]?.n ?? 0;
  }

  /** The keys that still verify at `now`, oldest first. */
  async live(now: Date, tx: Queryable = this.db): Promise<KeyRow[]> {
    return tx.query<KeyRow>(
      `select kid, alg, public_jwk, private_key, created_at, retired_at, expires_at
         from signing_keys where expires_at is null or expires_at > $1 order by created_at`,
      [now],
    );
  }

  /** Stops every active key signing now; they verify until `verifyUntil`. Returns their kids. */
  async retireActive(now: Date, verifyUntil: Date, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ kid: string }>(
      `update signing_keys set retired_at = $1, expires_at = $2 where retired_at is null returning kid`,
      [now, verifyUntil],
    );
    return rows.map((r) => r.kid);
  }

  /** Deletes the keys that no longer verify anything; returns how many. */
  async deleteExpired(now: Date, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ kid: string }>(`delete from signing_keys where expires_at <= $1 returning kid`, [
      now,
    ]);
    return rows.length;
  }

  async insert(
    key: { kid: string; alg: string; publicJwk: JWK; privateKey: string; createdAt: Date },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into signing_keys (kid, alg, public_jwk, private_key, created_at) values ($1, $2, $3, $4, $5)`,
      [key.kid, key.alg, JSON.stringify(key.publicJwk), key.privateKey, key.createdAt],
    );
  }
}
