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
import { UsersRepository } from '../../users/repository.js';
import { PasswordHistoryRepository } from './repository.js';

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
  private readonly repo: PasswordHistoryRepository;
  private readonly users: UsersRepository;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** PASSWORD_HISTORY: how many previous passwords are kept and refused. */
    readonly depth: number,
  ) {
    this.repo = new PasswordHistoryRepository(db);
    this.users = new UsersRepository(db);
  }

  /** The current hash and the kept previous ones. */
  private async hashes(userId: string, tx: Queryable): Promise<string[]> {
    const current = await this.users.passwordHash(userId, tx);
    const previous = await this.repo.recent(userId, this.depth, tx);
    return current === undefined ? previous : [current, ...previous];
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
      await this.repo.insert({ id: newId(), userId, passwordHash: previousHash, createdAt: this.clock.now() }, q);
    }
    await this.repo.trim(userId, this.depth, q);
  }

  /** How many previous hashes are kept for a user (tests, admin views). */
  async count(userId: string, tx?: Queryable): Promise<number> {
    return this.repo.count(userId, tx ?? this.db);
  }
}
