/**
 * MFA logic: TOTP enrollment and verification with replay protection, backup codes, the login
 * challenge (`mfaToken`), trusted devices, enforcement by role, admin reset. Passkeys live in
 * passkeys.ts and use the same challenge table and audit trail.
 *
 * Every factor check spends something through a compare-and-set in the repository, inside the
 * transaction that also consumes the login challenge: if either loses its race, both roll back.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import { newId } from '../../platform/ids.js';
import { verifyPassword } from '../../users/password.js';
import { userEvent, type AuditEventInput, type RequestContext } from '../audit/event.js';
import { MfaDecryptError, MfaKeyRing, newToken, sameText, tokenHash } from './crypto.js';
import { mfaErrors } from './errors.js';
import { MfaRepository, type ChallengeRow } from './repository.js';
import {
  BACKUP_CODE_COUNT,
  matchStep,
  newBackupCode,
  newTotpSecret,
  normaliseBackupCode,
  qrDataUrl,
  totpUri,
} from './totp.js';

export const MFA_TOKEN_TTL_MS = 5 * 60_000;
export const MFA_MAX_ATTEMPTS = 5;
export const BACKUP_CODES_LOW = 2;

/** Authentication method references (RFC 8176 where one fits; see docs/MFA.md). */
export const AMR = { totp: 'otp', backupCode: 'backup', passkey: 'hwk', device: 'device', mfa: 'mfa' } as const;

export type MfaMethod = 'totp' | 'passkey' | 'backup_code';

export interface MfaSettings {
  issuer: string;
  requiredRoles: readonly string[];
  graceDays: number;
  trustedDeviceDays: number;
}

export interface MfaUser {
  id: string;
  email: string;
  passwordHash: string;
  roles: readonly string[];
  disabled: boolean;
}

/** What the service needs from outside; the plugin wires the real ones. */
export interface MfaServiceDeps {
  db: Db;
  clock: Clock;
  keys: MfaKeyRing;
  settings: MfaSettings;
  audit: { record(event: AuditEventInput, tx?: Queryable): Promise<void> };
  getUser(userId: string): Promise<MfaUser | undefined>;
  /** Account lockout (src/security/accounts/lockout.ts): MFA failures count toward it. */
  lockout?: LockoutHooks;
  /** Mail to the user after an admin reset, in the reset's transaction. */
  notifyReset?(user: { id: string; email: string; name: string }, at: Date, tx: Queryable): Promise<void>;
  /** Signs the user out everywhere (app.tokens.revokeUser). */
  revokeUser?(userId: string, reason: 'mfa_reset'): Promise<void>;
}

/**
 * Account lockout (src/security/accounts): `guard` reserves an attempt before a code is checked
 * (429 ACCOUNT_LOCKED when locked), then exactly one of failure, success or abandon settles it.
 */
export interface LockoutHooks {
  guard(userId: string): Promise<void>;
  failure(userId: string): Promise<void>;
  success(userId: string): Promise<void>;
  abandon(userId: string): Promise<void>;
}

/** The second factor a client presents. */
export type FactorInput = { code: string } | { backupCode: string };

export interface VerifiedFactor {
  method: MfaMethod;
  amr: string[];
  backupCodesRemaining?: number;
}

export interface MfaStatus {
  enabled: boolean;
  methods: MfaMethod[];
  totp: { enabled: boolean; pending: boolean };
  passkeys: number;
  backupCodes: { remaining: number; total: number };
  trustedDevices: number;
  enrollment: { required: boolean; enrollBy: string | null };
}

/** The binding of an mfaToken to the login attempt's client (address and user agent). */
export function clientBinding(ip: string | null, userAgent: string | null): string {
  return createHash('sha256')
    .update(`${ip ?? ''}\n${userAgent ?? ''}`)
    .digest('base64url');
}

/** Thrown inside a transaction to roll it back; never leaves the service. */
class Rollback extends Error {
  constructor(readonly reason: 'factor' | 'challenge') {
    super(reason);
  }
}

const DAY_MS = 86_400_000;

export class MfaService {
  readonly repo: MfaRepository;

  constructor(private readonly d: MfaServiceDeps) {
    this.repo = new MfaRepository(d.db);
  }

  private now(): Date {
    return this.d.clock.now();
  }

  private async audit(
    action: string,
    userId: string,
    outcome: 'success' | 'failure' | 'denied',
    ctx: RequestContext,
    metadata: Record<string, unknown> = {},
    tx?: Queryable,
    actor?: string,
  ) {
    await this.d.audit.record(
      userEvent(action, userId === 'anonymous' ? null : userId, outcome, ctx, metadata, actor),
      tx,
    );
  }

  private async user(userId: string): Promise<MfaUser> {
    const user = await this.d.getUser(userId);
    if (!user || user.disabled) throw mfaErrors.tokenInvalid();
    return user;
  }

  /** Re-checks the password for sensitive changes: "it is really the owner, not a stolen session". */
  private async checkPassword(user: MfaUser, password: string, ctx: RequestContext, purpose: string): Promise<void> {
    if (!(await verifyPassword(user.passwordHash, password))) {
      await this.audit('mfa.password.failed', user.id, 'failure', ctx, { purpose });
      await this.d.lockout?.failure(user.id);
      throw mfaErrors.passwordInvalid();
    }
  }

  private decryptSecret(userId: string, ciphertext: string, keyId: string): string {
    try {
      return this.d.keys.decrypt(ciphertext, keyId, userId);
    } catch (err) {
      if (err instanceof MfaDecryptError)
        throw mfaErrors.unavailable('The TOTP secret cannot be decrypted with the configured MFA_ENCRYPTION_KEY');
      throw err;
    }
  }

  // ---- status ---------------------------------------------------------------------------------

  async status(userId: string, roles: readonly string[]): Promise<MfaStatus> {
    const now = this.now();
    const [totp, methods, codes, devices] = await Promise.all([
      this.repo.getTotp(userId),
      this.repo.methodsOf(userId),
      this.repo.countBackupCodes(userId),
      this.repo.countDevices(userId, now),
    ]);
    const list: MfaMethod[] = [];
    if (methods.totp) list.push('totp');
    if (methods.passkeys > 0) list.push('passkey');
    if (codes.remaining > 0 && list.length > 0) list.push('backup_code');
    const enabled = methods.totp || methods.passkeys > 0;
    const required = !enabled && this.isRequiredFor(roles);
    let enrollBy: string | null = null;
    if (required)
      enrollBy = new Date(
        (await this.repo.requiredSince(userId, now)).getTime() + this.d.settings.graceDays * DAY_MS,
      ).toISOString();
    return {
      enabled,
      methods: list,
      totp: { enabled: methods.totp, pending: totp !== undefined && totp.confirmedAt === null },
      passkeys: methods.passkeys,
      backupCodes: { remaining: codes.remaining, total: codes.total },
      trustedDevices: devices,
      enrollment: { required, enrollBy },
    };
  }

  /** The methods a login may use as its second factor; empty when the user has no MFA. */
  async loginMethods(userId: string, tx?: Queryable): Promise<MfaMethod[]> {
    const m = await this.repo.methodsOf(userId, tx);
    const list: MfaMethod[] = [];
    if (m.totp) list.push('totp');
    if (m.passkeys > 0) list.push('passkey');
    if (list.length > 0 && m.backupCodes > 0) list.push('backup_code');
    return list;
  }

  isRequiredFor(roles: readonly string[]): boolean {
    return roles.some((r) => this.d.settings.requiredRoles.includes(r));
  }

  // ---- TOTP enrollment ------------------------------------------------------------------------

  async startTotpEnrollment(
    userId: string,
    password: string,
    ctx: RequestContext,
  ): Promise<{ secret: string; otpauthUri: string; qrCode: string }> {
    const user = await this.user(userId);
    await this.checkPassword(user, password, ctx, 'totp_enroll');
    const secret = newTotpSecret();
    const { ciphertext, keyId } = this.d.keys.encrypt(secret, userId);
    const stored = await this.d.db.transaction(async (tx) => {
      const ok = await this.repo.putPendingTotp(userId, ciphertext, keyId, this.now(), tx);
      if (ok) await this.audit('mfa.totp.enroll_started', userId, 'success', ctx, {}, tx);
      return ok;
    });
    if (!stored) throw mfaErrors.alreadyEnabled();
    const otpauthUri = totpUri(secret, this.d.settings.issuer, user.email);
    return { secret, otpauthUri, qrCode: await qrDataUrl(otpauthUri) };
  }

  async confirmTotp(userId: string, code: string, ctx: RequestContext): Promise<{ backupCodes: string[] }> {
    await this.user(userId);
    const row = await this.repo.getTotp(userId);
    if (!row) throw mfaErrors.enrollmentNotStarted();
    if (row.confirmedAt !== null) throw mfaErrors.alreadyEnabled();
    const secret = this.decryptSecret(userId, row.secretCiphertext, row.keyId);
    const step = matchStep(secret, code, this.now().getTime());
    const codes = Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode);
    const done =
      step === null
        ? false
        : await this.d.db.transaction(async (tx) => {
            if (!(await this.repo.useTotpStep(userId, step, tx))) return false;
            if (!(await this.repo.confirmTotp(userId, this.now(), tx))) throw mfaErrors.alreadyEnabled();
            await this.storeBackupCodes(userId, codes, tx);
            await this.audit('mfa.totp.enrolled', userId, 'success', ctx, { backupCodes: BACKUP_CODE_COUNT }, tx);
            return true;
          });
    if (!done) {
      await this.audit('mfa.verify.failed', userId, 'failure', ctx, { purpose: 'totp_confirm', method: 'totp' });
      throw mfaErrors.codeInvalid();
    }
    return { backupCodes: codes };
  }

  private async storeBackupCodes(userId: string, codes: readonly string[], tx: Queryable): Promise<void> {
    const rows = codes.map((c) => {
      const [current] = this.d.keys.backupCodeHashes(userId, normaliseBackupCode(c)!);
      return { id: newId(), hash: current!.hash, keyId: current!.keyId };
    });
    await this.repo.replaceBackupCodes(userId, rows, this.now(), tx);
  }

  // ---- factor checks --------------------------------------------------------------------------

  /**
   * Checks a TOTP code or a backup code and spends it (the TOTP step, or the backup code) in
   * `tx`. False when wrong, reused or out of window. The caller's transaction decides whether
   * the spend sticks.
   */
  private async spendFactor(userId: string, factor: FactorInput, tx: Queryable): Promise<VerifiedFactor | null> {
    if ('code' in factor) {
      const row = await this.repo.getTotp(userId, tx);
      if (!row || row.confirmedAt === null) return null;
      const secret = this.decryptSecret(userId, row.secretCiphertext, row.keyId);
      const step = matchStep(secret, factor.code, this.now().getTime());
      // Replay protection: the step must be later than the last one used (compare-and-set).
      if (step === null || !(await this.repo.useTotpStep(userId, step, tx))) return null;
      return { method: 'totp', amr: [AMR.totp, AMR.mfa] };
    }
    const code = normaliseBackupCode(factor.backupCode);
    if (code === null) return null;
    const hashes = this.d.keys.backupCodeHashes(userId, code).map((h) => h.hash);
    if (!(await this.repo.useBackupCode(userId, hashes, this.now(), tx))) return null;
    const { remaining } = await this.repo.countBackupCodes(userId, tx);
    return { method: 'backup_code', amr: [AMR.backupCode, AMR.mfa], backupCodesRemaining: remaining };
  }

  private async afterFactor(
    userId: string,
    factor: VerifiedFactor,
    ctx: RequestContext,
    purpose: string,
  ): Promise<void> {
    if (factor.method === 'backup_code') {
      await this.audit('mfa.backup_codes.used', userId, 'success', ctx, {
        purpose,
        remaining: factor.backupCodesRemaining,
      });
      if ((factor.backupCodesRemaining ?? 0) <= BACKUP_CODES_LOW) {
        // A warning event: dashboards and mail notifications key on it.
        await this.audit('mfa.backup_codes.low', userId, 'success', ctx, { remaining: factor.backupCodesRemaining });
      }
    }
  }

  private async factorFailed(
    userId: string,
    method: string,
    ctx: RequestContext,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    await this.audit('mfa.verify.failed', userId, 'failure', ctx, { method, ...metadata });
    await this.d.lockout?.failure(userId);
  }

  /**
   * Runs one factor check under the account lockout: an attempt is reserved first (a locked
   * account gets 429 before any code is looked at), and settled by the verdict: pass, fail (a
   * wrong factor), or none (no verdict on the factor, e.g. the challenge was already spent).
   */
  private async underLockout<T>(
    userId: string,
    check: () => Promise<{ verdict: 'pass' | 'fail' | 'none'; value: T }>,
  ): Promise<T> {
    const lockout = this.d.lockout;
    if (!lockout) return (await check()).value;
    await lockout.guard(userId);
    let settled = false;
    try {
      const result = await check();
      settled = true;
      if (result.verdict === 'pass') await lockout.success(userId);
      else if (result.verdict === 'fail') await lockout.failure(userId);
      else await lockout.abandon(userId);
      return result.value;
    } catch (err) {
      if (!settled) await lockout.abandon(userId).catch(() => undefined);
      throw err;
    }
  }

  /** A factor check outside login (disable, regenerate): spends the code like a login would. */
  async checkFactor(
    userId: string,
    factor: FactorInput,
    ctx: RequestContext,
    purpose: string,
  ): Promise<VerifiedFactor> {
    const result = await this.underLockout(userId, async () => {
      const spent = await this.d.db.transaction((tx) => this.spendFactor(userId, factor, tx));
      return { verdict: spent ? ('pass' as const) : ('fail' as const), value: spent };
    });
    if (!result) {
      await this.audit('mfa.verify.failed', userId, 'failure', ctx, {
        method: 'code' in factor ? 'totp' : 'backup_code',
        purpose,
      });
      throw mfaErrors.codeInvalid();
    }
    await this.afterFactor(userId, result, ctx, purpose);
    return result;
  }

  // ---- disable, regenerate ---------------------------------------------------------------------

  async disable(userId: string, password: string, factor: FactorInput, ctx: RequestContext): Promise<void> {
    const user = await this.user(userId);
    await this.checkPassword(user, password, ctx, 'mfa_disable');
    const methods = await this.repo.methodsOf(userId);
    if (!methods.totp && methods.passkeys === 0) throw mfaErrors.notEnabled();
    await this.checkFactor(userId, factor, ctx, 'mfa_disable');
    await this.d.db.transaction(async (tx) => {
      await this.removeAllFactors(userId, tx);
      await this.audit('mfa.disabled', userId, 'success', ctx, {}, tx);
    });
  }

  private async removeAllFactors(userId: string, tx: Queryable): Promise<void> {
    await this.repo.deleteTotp(userId, tx);
    await this.repo.deleteBackupCodes(userId, tx);
    await this.repo.deleteCredentials(userId, tx);
    await this.repo.revokeAllDevices(userId, this.now(), tx);
    await this.repo.deleteChallengesOf(userId, tx);
  }

  async regenerateBackupCodes(
    userId: string,
    password: string,
    factor: FactorInput,
    ctx: RequestContext,
  ): Promise<{ backupCodes: string[] }> {
    const user = await this.user(userId);
    await this.checkPassword(user, password, ctx, 'backup_codes_regenerate');
    if ((await this.loginMethods(userId)).length === 0) throw mfaErrors.notEnabled();
    await this.checkFactor(userId, factor, ctx, 'backup_codes_regenerate');
    const codes = Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode);
    await this.d.db.transaction(async (tx) => {
      await this.storeBackupCodes(userId, codes, tx);
      await this.audit('mfa.backup_codes.regenerated', userId, 'success', ctx, { count: BACKUP_CODE_COUNT }, tx);
    });
    return { backupCodes: codes };
  }

  /** First backup codes for a user who set up a passkey before any other method. */
  async issueBackupCodesIfNone(userId: string, ctx: RequestContext): Promise<string[] | undefined> {
    const { total } = await this.repo.countBackupCodes(userId);
    if (total > 0) return undefined;
    const codes = Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode);
    await this.d.db.transaction(async (tx) => {
      await this.storeBackupCodes(userId, codes, tx);
      await this.audit(
        'mfa.backup_codes.regenerated',
        userId,
        'success',
        ctx,
        { count: BACKUP_CODE_COUNT, first: true },
        tx,
      );
    });
    return codes;
  }

  // ---- login challenge ------------------------------------------------------------------------

  /** Starts the second step of a login: a random 256-bit mfaToken, stored hashed with its binding. */
  async createLoginChallenge(
    userId: string,
    binding: string,
    ctx: RequestContext,
    methods: readonly MfaMethod[],
  ): Promise<{ mfaToken: string; expiresAt: Date }> {
    const mfaToken = newToken();
    const now = this.now();
    const expiresAt = new Date(now.getTime() + MFA_TOKEN_TTL_MS);
    await this.d.db.transaction(async (tx) => {
      await this.repo.createChallenge(
        {
          id: newId(),
          kind: 'login',
          tokenHash: tokenHash(mfaToken),
          userId,
          bindingHash: binding,
          webauthnChallenge: null,
          expiresAt,
        },
        now,
        tx,
      );
      await this.audit('mfa.challenge.issued', userId, 'success', ctx, { methods }, tx);
    });
    return { mfaToken, expiresAt };
  }

  /**
   * The live login challenge of an mfaToken presented by this client, after taking one attempt
   * from it. Everything that is not a live challenge of this client answers MFA_TOKEN_INVALID.
   */
  async takeLoginChallenge(
    mfaToken: string,
    binding: string,
    ctx: RequestContext,
  ): Promise<ChallengeRow & { userId: string; attempt: number }> {
    const ch = await this.repo.getChallenge('login', tokenHash(mfaToken));
    const now = this.now();
    if (!ch || !ch.userId || ch.usedAt !== null || ch.expiresAt.getTime() <= now.getTime()) {
      await this.audit('mfa.verify.failed', ch?.userId ?? 'anonymous', 'failure', ctx, {
        reason: ch ? 'token_spent_or_expired' : 'token_unknown',
      });
      throw mfaErrors.tokenInvalid();
    }
    // The token was issued to another client: someone replaying a stolen mfaToken. The attempt
    // is taken (a thief burns the challenge down) and the answer is the same as for a dead token.
    const attempt = await this.repo.takeAttempt(ch.id, MFA_MAX_ATTEMPTS, now);
    if (!sameText(ch.bindingHash, binding)) {
      await this.factorFailed(ch.userId, 'none', ctx, { reason: 'binding_mismatch' });
      throw mfaErrors.tokenInvalid();
    }
    if (attempt === null) {
      await this.audit('mfa.verify.failed', ch.userId, 'failure', ctx, { reason: 'token_out_of_attempts' });
      throw mfaErrors.tokenInvalid();
    }
    return { ...ch, userId: ch.userId, attempt };
  }

  /**
   * Completes a login challenge with a code: the factor and the challenge are spent together or
   * not at all. Returns who logged in and the methods used.
   */
  async verifyLogin(
    mfaToken: string,
    factor: FactorInput,
    binding: string,
    ctx: RequestContext,
  ): Promise<{ userId: string; factor: VerifiedFactor }> {
    const ch = await this.takeLoginChallenge(mfaToken, binding, ctx);
    return this.completeChallenge(ch, ctx, 'code' in factor ? 'totp' : 'backup_code', (tx) =>
      this.spendFactor(ch.userId, factor, tx),
    );
  }

  /** Shared by codes and passkeys: spend the factor and consume the challenge in one transaction. */
  async completeChallenge(
    ch: ChallengeRow & { userId: string; attempt: number },
    ctx: RequestContext,
    method: MfaMethod,
    spend: (tx: Queryable) => Promise<VerifiedFactor | null>,
  ): Promise<{ userId: string; factor: VerifiedFactor }> {
    const outcome = await this.underLockout(ch.userId, async () => {
      try {
        const spent = await this.d.db.transaction(async (tx) => {
          if (!(await this.repo.consumeChallenge(ch.id, this.now(), tx))) throw new Rollback('challenge');
          const factor = await spend(tx);
          if (!factor) throw new Rollback('factor');
          return factor;
        });
        return { verdict: 'pass' as const, value: spent as VerifiedFactor | Rollback['reason'] };
      } catch (err) {
        if (!(err instanceof Rollback)) throw err;
        // A spent challenge says nothing about the code: only a wrong factor counts as a failure.
        return { verdict: err.reason === 'factor' ? ('fail' as const) : ('none' as const), value: err.reason };
      }
    });
    if (outcome === 'challenge') {
      await this.audit('mfa.verify.failed', ch.userId, 'failure', ctx, { method, reason: 'token_spent_or_expired' });
      throw mfaErrors.tokenInvalid();
    }
    if (outcome === 'factor') {
      const attemptsLeft = Math.max(0, MFA_MAX_ATTEMPTS - ch.attempt);
      await this.audit('mfa.verify.failed', ch.userId, 'failure', ctx, {
        method,
        purpose: 'login',
        attempt: ch.attempt,
        attemptsLeft,
      });
      throw mfaErrors.codeInvalid({ attemptsLeft });
    }
    await this.audit('mfa.verify.succeeded', ch.userId, 'success', ctx, { method, purpose: 'login' });
    await this.afterFactor(ch.userId, outcome, ctx, 'login');
    return { userId: ch.userId, factor: outcome };
  }

  // ---- trusted devices ------------------------------------------------------------------------

  /** "Remember this device": a random token, stored hashed, valid TRUSTED_DEVICE_DAYS, bound to the user. */
  async trustDevice(
    userId: string,
    label: string,
    ctx: RequestContext,
  ): Promise<{ deviceToken: string; expiresAt: Date; id: string }> {
    const deviceToken = newToken();
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.d.settings.trustedDeviceDays * DAY_MS);
    const id = newId();
    await this.d.db.transaction(async (tx) => {
      await this.repo.createDevice(
        { id, userId, tokenHash: tokenHash(deviceToken), label: label.slice(0, 200), expiresAt },
        now,
        tx,
      );
      await this.audit(
        'mfa.device.trusted',
        userId,
        'success',
        ctx,
        { deviceId: id, expiresAt: expiresAt.toISOString() },
        tx,
      );
    });
    return { deviceToken, expiresAt, id };
  }

  /** True when the token is a live trusted device of this user (another user's token: false). */
  async isTrustedDevice(userId: string, deviceToken: string): Promise<string | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(deviceToken)) return null;
    const device = await this.repo.touchDevice(userId, tokenHash(deviceToken), this.now());
    return device?.id ?? null;
  }

  listDevices(userId: string) {
    return this.repo.listDevices(userId, this.now());
  }

  async revokeDevice(userId: string, id: string, ctx: RequestContext): Promise<boolean> {
    return this.d.db.transaction(async (tx) => {
      const ok = await this.repo.revokeDevice(userId, id, this.now(), tx);
      if (ok) await this.audit('mfa.device.revoked', userId, 'success', ctx, { deviceId: id }, tx);
      return ok;
    });
  }

  async revokeAllDevices(userId: string, ctx: RequestContext | null, reason: string): Promise<number> {
    return this.d.db.transaction(async (tx) => {
      const n = await this.repo.revokeAllDevices(userId, this.now(), tx);
      if (n > 0) {
        await this.d.audit.record(
          {
            action: 'mfa.device.revoked',
            actor: ctx ? userId : 'system',
            outcome: 'success',
            target: { type: 'user', id: userId },
            metadata: { all: true, count: n, reason },
            ...(ctx ?? {}),
          },
          tx,
        );
      }
      return n;
    });
  }

  // ---- enforcement ----------------------------------------------------------------------------

  /**
   * For a user who must use MFA (by role) and has none: when the grace period ends. The start is
   * recorded at the first such sign-in and survives MFA resets, so nobody gets a fresh grace.
   */
  async enrollmentDeadline(userId: string, roles: readonly string[]): Promise<Date | null> {
    if (!this.isRequiredFor(roles)) return null;
    const since = await this.repo.requiredSince(userId, this.now());
    return new Date(since.getTime() + this.d.settings.graceDays * DAY_MS);
  }

  // ---- admin reset ----------------------------------------------------------------------------

  /**
   * Removes every factor of a user (lost phone): TOTP, backup codes, passkeys, trusted devices,
   * pending challenges. The user is signed out everywhere and told by mail. Enforcement keeps its
   * original start, so a user who must use MFA gets no new grace period: past it, their next
   * sign-in can only enroll again.
   */
  async resetUser(
    adminId: string,
    target: { id: string; email: string; name: string },
    ctx: RequestContext,
  ): Promise<{ removed: { totp: boolean; passkeys: number; backupCodes: number; devices: number } }> {
    const userId = target.id;
    const now = this.now();
    const result = await this.d.db.transaction(async (tx) => {
      const totp = (await this.repo.deleteTotp(userId, tx)) > 0;
      const backupCodes = await this.repo.deleteBackupCodes(userId, tx);
      const passkeys = await this.repo.deleteCredentials(userId, tx);
      const devices = await this.repo.revokeAllDevices(userId, now, tx);
      await this.repo.deleteChallengesOf(userId, tx);
      const removed = { totp, passkeys, backupCodes, devices };
      await this.audit('mfa.reset', userId, 'success', ctx, { removed }, tx, adminId);
      // The notice commits with the reset (the outbox row is in the same transaction).
      await this.d.notifyReset?.(target, now, tx);
      return { removed };
    });
    await this.d.revokeUser?.(userId, 'mfa_reset');
    return result;
  }

  // ---- key rotation ---------------------------------------------------------------------------

  /** Re-encrypts every TOTP secret not under the current key (after MFA_ENCRYPTION_KEY gained a new first key). */
  async rewrapSecrets(batch = 500): Promise<{ rewrapped: number; failed: number }> {
    let rewrapped = 0;
    let failed = 0;
    const current = this.d.keys.currentKeyId;
    const seen = new Set<string>();
    for (;;) {
      const rows = (await this.repo.listTotpNotUnderKey(current, batch)).filter((r) => !seen.has(r.userId));
      if (rows.length === 0) break;
      for (const row of rows) {
        seen.add(row.userId);
        let secret: string;
        try {
          secret = this.d.keys.decrypt(row.secretCiphertext, row.keyId, row.userId);
        } catch {
          failed++;
          continue;
        }
        const { ciphertext, keyId } = this.d.keys.encrypt(secret, row.userId);
        if (await this.repo.rewrapTotp(row.userId, row.keyId, ciphertext, keyId, this.now())) rewrapped++;
      }
    }
    return { rewrapped, failed };
  }
}
