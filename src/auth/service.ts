import { AppError } from '../http/errors.js';
import type { Queryable } from '../platform/db/index.js';
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from '../users/password.js';
import type { UserRow } from '../users/repository.js';
import type { UsersService } from '../users/service.js';
import type { TokenPair, TokenService } from './tokens.js';

export type LoginFailureReason = 'unknown_account' | 'wrong_password' | 'account_disabled';

/**
 * One answer for every failed login: the client must not learn which emails exist. What really
 * happened travels on the error object for the audit log only (never into the problem body).
 */
export class LoginFailedError extends AppError {
  constructor(
    readonly reason: LoginFailureReason,
    readonly userId: string | null,
  ) {
    super(401, 'INVALID_CREDENTIALS', 'Unauthorized', 'Email or password is incorrect');
  }
}

/** A token pair and whose it is, so callers (audit) need not decode the token they were given. */
export interface AuthResult {
  pair: TokenPair;
  userId: string;
}

export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokenService,
  ) {}

  /**
   * Creates an account. `afterInsert` runs inside the insert's transaction (so an audit event
   * commits with the account), while the password is hashed before that transaction opens.
   */
  register(
    input: { email: string; password: string; name: string },
    afterInsert?: (user: UserRow, tx: Queryable) => Promise<void>,
  ) {
    return this.users.create({ ...input, role: 'user' }, undefined, afterInsert);
  }

  async login(email: string, password: string): Promise<AuthResult> {
    const user = await this.users.repo.getByEmail(email.trim());
    // Always run one argon2 verification, against a dummy hash when the user is unknown, so
    // both failures cost the same time.
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
    if (!user) throw new LoginFailedError('unknown_account', null);
    if (!ok) throw new LoginFailedError('wrong_password', user.id);
    if (user.disabled) throw new LoginFailedError('account_disabled', user.id);
    if (needsRehash(user.passwordHash)) {
      await this.users.repo.update(user.id, { passwordHash: await hashPassword(password) });
    }
    return { pair: await this.tokens.issuePair(user.id), userId: user.id };
  }

  async refresh(refreshToken: string): Promise<AuthResult> {
    const claims = await this.tokens.verify(refreshToken, 'refresh');
    const user = await this.users.repo.getAuth(claims.sub);
    if (!user || user.disabled) {
      throw new AppError(401, 'INVALID_TOKEN', 'Unauthorized', 'The token is invalid');
    }
    return { pair: await this.tokens.issuePair(user.id), userId: user.id };
  }
}
