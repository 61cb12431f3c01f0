/**
 * A user's sessions: listing them and ending them. Every ended session is announced, so every
 * node refuses its access tokens at once.
 */
import type { Clock } from '../../platform/clock.js';
import type { SessionRow, TokenRepository } from './repository.js';
import type { RevocationCache } from './revocation.js';

export class Sessions {
  constructor(
    private readonly repo: TokenRepository,
    private readonly revocation: RevocationCache,
    private readonly clock: Clock,
  ) {}

  async list(userId: string): Promise<SessionRow[]> {
    return this.repo.listSessions(userId, this.clock.now());
  }

  /** Ends one session (of `userId`, or of anyone when null); false when there was none to end. */
  async revoke(userId: string | null, sessionId: string, reason: string): Promise<boolean> {
    const ended = await this.repo.revokeSession(userId, sessionId, reason, this.clock.now());
    if (ended) await this.revocation.announce({ t: 'session', id: sessionId });
    return ended;
  }

  /** Ends every session of a user but `keepSessionId`; returns how many ended. */
  async revokeOthers(userId: string, keepSessionId: string, reason: string): Promise<number> {
    const ended = await this.repo.revokeOtherSessions(userId, keepSessionId, reason, this.clock.now());
    for (const id of ended) await this.revocation.announce({ t: 'session', id });
    return ended.length;
  }
}
