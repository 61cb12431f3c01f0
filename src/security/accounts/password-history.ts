/**
 * Password history: a new password may not be the current one nor any of the last
 * PASSWORD_HISTORY ones (argon2 hashes kept here, newest first, trimmed on every write).
 *
 * Every stored hash is verified on every check, in parallel, whatever matches first: the time a
 * refusal takes does not say which old password it was.
 */
import { AppError } from '../../http/errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import { newId } from '../../platform/ids.js';
import { verifyPassword } from '../../users/password.js';

export class PasswordReusedError extends AppError {
  constructor(depth: number) {
    super(
      400,
      'PASSWORD_REUSED',
      'Password rejected',
      depth > 0
        ? `Choose a password you have not used for this account before (the current one and the last ${depth} are refused)`
        : 'Choose a password different from the current one',
    );
  }
}

export class PasswordHistory {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** PASSWORD_HISTORY: how many previous passwords are kept and refused. */
    readonly depth: number,
  ) {}

  /** The current hash and the kept previous ones. */
  private async hashes(userId: string, tx: Queryable): Promise<string[]> {
    const rows = await tx.query<{ hash: string }>(
      `select password_hash as hash from users where id = $1
       union all
       (select password_hash from password_history where user_id = $1 order by created_at desc, id desc limit $2)`,
      [userId, this.depth],
    );
    return rows.map((r) => r.hash);
  }

  /** True when `password` is the current one or one of the last `depth`. */
  async isReused(userId: string, password: string, tx?: Queryable): Promise<boolean> {
    const hashes = await this.hashes(userId, tx ?? this.db);
    const results = await Promise.all(hashes.map((h) => verifyPassword(h, password)));
    return results.some(Boolean);
  }

  /** Throws PASSWORD_REUSED (400) when `newPassword` was used before. */
  async assertNotReused(userId: string, newPassword: string, tx?: Queryable): Promise<void> {
    if (await this.isReused(userId, newPassword, tx)) throw new PasswordReusedError(this.depth);
  }

  /**
   * Keeps the hash of the password being *replaced* (call it in the transaction that sets the new
   * one, with the old users.password_hash), then trims to the newest `depth`.
   */
  async remember(userId: string, previousHash: string, tx?: Queryable): Promise<void> {
    const q = tx ?? this.db;
    if (this.depth > 0) {
      await q.query(`insert into password_history (id, user_id, password_hash, created_at) values ($1, $2, $3, $4)`, [
        newId(),
        userId,
        previousHash,
        this.clock.now(),
      ]);
    }
    await q.query(
      `delete from password_history where user_id = $1 and id not in (
         select id from password_history where user_id = $1 order by created_at desc, id desc limit $2)`,
      [userId, this.depth],
    );
  }

  /** How many previous hashes are kept for a user (tests, admin views). */
  async count(userId: string, tx?: Queryable): Promise<number> {
    const rows = await (tx ?? this.db).query<{ n: number }>(
      `select count(*)::int as n from password_history where user_id = $1`,
      [userId],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
