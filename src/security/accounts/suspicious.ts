/**
 * Suspicious-login detection (docs/ACCOUNT_SECURITY.md#suspicious-login-detection).
 *
 * Signals, per user: a device family never seen (`login_devices`), a network prefix never seen
 * (`login_networks`), a burst of failures in the lockout streak just before the right password,
 * and an address in SUSPICIOUS_LOGIN_DENY_NETWORKS. risk.ts turns them into allow, notify ("was
 * this you?" mail with a one-click link that ends that session and starts a reset) or step-up
 * (the MFA challenge, when the user has a second factor; otherwise notify).
 *
 * Where it runs:
 * - the login gate (after MFA's gate, so it sees logins that MFA let through: no MFA, or a
 *   trusted device) decides step-up;
 * - the "login completed" listener of app.auth runs after every sign-in (password, MFA verify,
 *   passkey): it records `auth.login.suspicious`, mails the owner when needed, and remembers the
 *   device and network. For a login that went through an MFA challenge, the lockout streak seen
 *   at the password step is kept in the KV for the challenge's lifetime, since the MFA success
 *   resets it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { IpMatcher } from '../../http/client-ip.js';
import type { Queryable } from '../../platform/db/index.js';
import type { LoginGate, LoginGateResult } from '../../auth/gates.js';
import { AUDIT_ACTIONS } from '../audit/actions.js';
import {
  actionFor,
  assessRisk,
  BURST_FAILURES,
  deviceFamily,
  deviceLabel,
  networkPrefix,
  SIGNAL_TEXT,
  type RiskAction,
  type RiskAssessment,
  type RiskSignal,
} from './risk.js';
import { LoginHistoryRepository } from './repository.js';
import type { MfaMethod } from '../mfa/core.js';
import type { AccountSecurity } from './service.js';

/** How long a "was this you?" link works. */
export const SUSPICIOUS_LINK_TTL_SECONDS = 7 * 86400;
/** Kept from the password step to the MFA verify step (the MFA challenge lives 5 minutes). */
const STREAK_STASH_MS = 10 * 60_000;

interface Decision extends RiskAssessment {
  action: RiskAction;
}

export class SuspiciousLogins {
  private readonly deny: IpMatcher;
  private readonly history: LoginHistoryRepository;
  /** Decisions made by the gate, for the listener of the same request. */
  private readonly decided = new WeakMap<FastifyRequest, Decision>();

  constructor(
    private readonly app: FastifyInstance,
    private readonly accounts: AccountSecurity,
    denyNetworks: readonly string[],
  ) {
    this.deny = new IpMatcher(denyNetworks);
    this.history = new LoginHistoryRepository(app.deps.db);
  }

  private ipOf(request: FastifyRequest): string {
    return request.clientIp || request.ip;
  }

  private userAgentOf(request: FastifyRequest): string {
    const ua = request.headers['user-agent'];
    return typeof ua === 'string' ? ua : '';
  }

  /** The signals of a sign-in by `userId` from this request. `streak` is the lockout streak before it. */
  async signals(
    userId: string,
    request: FastifyRequest,
    streak: { failures: number; level: number; locked: boolean } | null,
  ): Promise<RiskSignal[]> {
    const out: RiskSignal[] = [];
    const [networks, devices] = await Promise.all([this.history.networks(userId), this.history.devices(userId)]);
    // The first sign-in of an account has nothing to compare with: new, but not suspicious.
    if (devices.length > 0 && !devices.includes(deviceFamily(this.userAgentOf(request)))) {
      out.push('new_device');
    }
    if (networks.length > 0 && !networks.includes(networkPrefix(this.ipOf(request)))) {
      out.push('new_network');
    }
    if (streak && (streak.locked || streak.level > 0 || streak.failures >= BURST_FAILURES)) out.push('failure_burst');
    if (this.deny.has(this.ipOf(request))) out.push('denylisted_network');
    return out;
  }

  private async streakOf(email: string) {
    return this.accounts.lockout.state(email).catch(() => null);
  }

  /** Keeps the lockout streak seen at the password step for the MFA step (which resets it). */
  async stashStreak(userId: string, email: string): Promise<void> {
    const streak = await this.streakOf(email);
    if (!streak || (streak.failures === 0 && streak.level === 0 && !streak.locked)) return;
    await this.app.deps.kv
      .set(`acct:streak:${userId}`, JSON.stringify(streak), { ttlMs: STREAK_STASH_MS })
      .catch(() => false);
  }

  private async takeStash(userId: string) {
    const kv = this.app.deps.kv;
    const raw = await kv.get(`acct:streak:${userId}`).catch(() => null);
    if (raw === null) return null;
    await kv.del(`acct:streak:${userId}`).catch(() => 0);
    try {
      return JSON.parse(raw) as { failures: number; level: number; locked: boolean };
    } catch {
      return null;
    }
  }

  /** The login gate: step-up for high risk when the user has a second factor. */
  gate(): LoginGate {
    return async ({ user, request }): Promise<LoginGateResult> => {
      const signals = await this.signals(user.id, request, await this.streakOf(user.email));
      const assessment = assessRisk(signals);
      const secondFactor = this.accounts.secondFactor;
      let methods: MfaMethod[] = [];
      if (assessment.level === 'high' && secondFactor) methods = await secondFactor.loginMethods(user.id);
      const decision: Decision = { ...assessment, action: actionFor(assessment.level, methods.length > 0) };
      this.decided.set(request, decision);
      if (decision.action !== 'step_up' || !secondFactor) return { kind: 'continue' };
      // Answered like MFA answers a login: the client completes it at /api/auth/mfa/verify.
      const { mfaToken } = await secondFactor.challenge(user.id, request, methods);
      await this.record(request, user.id, decision, null);
      return { kind: 'respond', body: { mfaRequired: true, mfaToken, methods } };
    };
  }

  /** After every completed sign-in: record, notify, remember. Never fails the sign-in. */
  async completed(ctx: { request: FastifyRequest; userId: string; sessionId: string; amr: readonly string[] }) {
    try {
      const { request, userId, sessionId } = ctx;
      let decision = this.decided.get(request);
      if (!decision) {
        // MFA verify or passkey sign-in: the gate did not run in this request. A second factor
        // was just passed, so the most it asks for is a mail.
        const signals = await this.signals(userId, request, await this.takeStash(userId));
        const assessment = assessRisk(signals);
        decision = { ...assessment, action: assessment.level === 'low' ? 'allow' : 'notify' };
      } else {
        await this.app.deps.kv.del(`acct:streak:${userId}`).catch(() => 0);
      }
      if (decision.action !== 'allow') {
        await this.app.deps.db.transaction(async (tx) => {
          await this.record(request, userId, decision, sessionId, tx);
          if (decision.action === 'notify') await this.notify(request, userId, sessionId, decision, tx);
        });
      }
      await this.remember(userId, request);
    } catch (err) {
      ctx.request.log.error({ err }, 'suspicious-login check failed');
    }
  }

  private async record(
    request: FastifyRequest,
    userId: string,
    decision: Decision,
    sessionId: string | null,
    tx?: Queryable,
  ): Promise<void> {
    await this.app.audit.record(
      {
        action: AUDIT_ACTIONS.loginSuspicious,
        actor: userId,
        outcome: decision.action === 'step_up' ? 'denied' : 'success',
        target: { type: 'user', id: userId },
        metadata: {
          signals: decision.signals,
          score: decision.score,
          level: decision.level,
          action: decision.action,
          ...(sessionId ? { session: sessionId } : {}),
        },
        ...this.app.audit.contextOf(request),
      },
      tx,
    );
  }

  private async notify(
    request: FastifyRequest,
    userId: string,
    sessionId: string,
    decision: Decision,
    tx: Queryable,
  ): Promise<void> {
    const user = await this.app.users.repo.get(userId, tx);
    if (!user) return;
    const token = await this.accounts.tokens.issue('suspicious_login', userId, SUSPICIOUS_LINK_TTL_SECONDS, tx, {
      metadata: { sessionId },
    });
    await this.app.mail.enqueue(
      this.app.mail.templates.suspiciousLogin({
        to: { address: user.email, name: user.name },
        token,
        at: this.app.deps.clock.now(),
        ip: this.ipOf(request),
        device: deviceLabel(this.userAgentOf(request)),
        reasons: decision.signals.map((s) => SIGNAL_TEXT[s]),
        ttlSeconds: SUSPICIOUS_LINK_TTL_SECONDS,
      }),
      tx,
    );
  }

  /** The device family and network of a completed sign-in are known from now on. */
  async remember(userId: string, request: FastifyRequest): Promise<void> {
    await this.history.remember(
      userId,
      { prefix: networkPrefix(this.ipOf(request)), family: deviceFamily(this.userAgentOf(request)) },
      this.app.deps.clock.now(),
    );
  }

  /**
   * "It was not me": ends the session the mail was about and starts a password reset (the reset
   * token is returned: the caller proved they read the owner's mailbox, which is all a reset
   * link proves too). Null for any unusable token.
   */
  async disown(
    token: unknown,
    request: FastifyRequest,
  ): Promise<{ sessionRevoked: boolean; resetToken: string; resetExpiresIn: number } | null> {
    const ttl = this.app.deps.config.PASSWORD_RESET_TTL;
    const result = await this.app.deps.db.transaction(async (tx) => {
      const grant = await this.accounts.tokens.consume('suspicious_login', token, tx);
      if (!grant) return null;
      const user = await this.app.users.repo.get(grant.userId, tx);
      if (!user || user.disabled) return null;
      const resetToken = await this.accounts.tokens.issue('password_reset', user.id, ttl, tx, { replace: true });
      const sessionId = typeof grant.metadata['sessionId'] === 'string' ? grant.metadata['sessionId'] : null;
      return { user, resetToken, sessionId };
    });
    if (!result) return null;
    const { user, resetToken, sessionId } = result;
    const sessionRevoked = sessionId ? await this.app.tokens.sessions.revoke(user.id, sessionId, 'not_me') : false;
    await this.app.audit.record({
      action: 'auth.login.disowned',
      actor: user.id,
      outcome: 'success',
      target: { type: 'user', id: user.id },
      metadata: { ...(sessionId ? { session: sessionId } : {}), sessionRevoked },
      ...this.app.audit.contextOf(request),
    });
    return { sessionRevoked, resetToken, resetExpiresIn: ttl };
  }
}
