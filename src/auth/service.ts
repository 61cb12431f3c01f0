import { AppError } from '../http/errors.js';
import type { Queryable } from '../platform/db/index.js';
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from '../users/password.js';
import type { UsersService } from '../users/service.js';
import type { TokenPair, TokenService } from './tokens.js';

function invalidCredentials(): AppError {
  // One error for unknown email and wrong password: the answer must not reveal which emails exist.
  return new AppError(401, 'INVALID_CREDENTIALS', 'Unauthorized', 'Email or password is incorrect');
}

export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokenService,
  ) {}

  /** With `tx`, the account is created in the caller's transaction (so its audit event commits with it). */
  register(input: { email: string; password: string; name: string }, tx?: Queryable) {
    return this.users.create({ ...input, role: 'user' }, tx);
  }

  async login(email: string, password: string): Promise<TokenPair> {
    const user = await this.users.repo.getByEmail(email.trim());
    // Always run one argon2 verification, against a dummy hash when the user is unknown, so
    // both failures cost the same time.
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
    if (!user || !ok) throw invalidCredentials();
    if (user.disabled) throw invalidCredentials();
    if (needsRehash(user.passwordHash)) {
      await this.users.repo.update(user.id, { passwordHash: await hashPassword(password) });
    }
    return this.tokens.issuePair(user.id);
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const claims = await this.tokens.verify(refreshToken, 'refresh');
    const user = await this.users.repo.getAuth(claims.sub);
    if (!user || user.disabled) {
      throw new AppError(401, 'INVALID_TOKEN', 'Unauthorized', 'The token is invalid');
    }
    return this.tokens.issuePair(user.id);
  }
}
