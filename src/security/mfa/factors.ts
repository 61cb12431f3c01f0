/**
 * Factor checks: a TOTP code or a backup code is checked and spent through a compare-and-set in
 * the repository, inside the caller's transaction, under the account lockout.
 */
import type { Queryable } from '../../platform/db/index.js';
import type { RequestContext } from '../audit/event.js';
import { AMR, BACKUP_CODES_LOW, type FactorInput, type MfaCore, type VerifiedFactor } from './core.js';
import { mfaErrors } from './errors.js';
import { matchStep, normaliseBackupCode } from './totp.js';

export class FactorChecks {
  constructor(private readonly core: MfaCore) {}

  /**
   * Checks a TOTP code or a backup code and spends it (the TOTP step, or the backup code) in
   * `tx`. False when wrong, reused or out of window. The caller's transaction decides whether
   * the spend sticks.
   */
  async spendFactor(userId: string, factor: FactorInput, tx: Queryable): Promise<VerifiedFactor | null> {
    const { repo } = this.core;
    if ('code' in factor) {
      const row = await repo.factors.getTotp(userId, tx);
      if (!row || row.confirmedAt === null) return null;
      const secret = this.core.decryptSecret(userId, row.secretCiphertext, row.keyId);
      const step = matchStep(secret, factor.code, this.core.now().getTime());
      // Replay protection: the step must be later than the last one used (compare-and-set).
      if (step === null || !(await repo.factors.useTotpStep(userId, step, tx))) return null;
      return { method: 'totp', amr: [AMR.totp, AMR.mfa] };
    }
    const code = normaliseBackupCode(factor.backupCode);
    if (code === null) return null;
    const hashes = this.core.d.keys.backupCodeHashes(userId, code).map((h) => h.hash);
    if (!(await repo.factors.useBackupCode(userId, hashes, this.core.now(), tx))) return null;
    const { remaining } = await repo.factors.countBackupCodes(userId, tx);
    return { method: 'backup_code', amr: [AMR.backupCode, AMR.mfa], backupCodesRemaining: remaining };
  }

  async afterFactor(userId: string, factor: VerifiedFactor, ctx: RequestContext, purpose: string): Promise<void> {
    if (factor.method === 'backup_code') {
      await this.core.audit('mfa.backup_codes.used', userId, 'success', ctx, {
        purpose,
        remaining: factor.backupCodesRemaining,
      });
      if ((factor.backupCodesRemaining ?? 0) <= BACKUP_CODES_LOW) {
        // A warning event: dashboards and mail notifications key on it.
        await this.core.audit('mfa.backup_codes.low', userId, 'success', ctx, {
          remaining: factor.backupCodesRemaining,
        });
      }
    }
  }

  async factorFailed(
    userId: string,
    method: string,
    ctx: RequestContext,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    await this.core.audit('mfa.verify.failed', userId, 'failure', ctx, { method, ...metadata });
    await this.core.d.lockout?.failure(userId);
  }

  /**
   * Runs one factor check under the account lockout: an attempt is reserved first (a locked
   * account gets 429 before any code is looked at), and settled by the verdict: pass, fail (a
   * wrong factor), or none (no verdict on the factor, e.g. the challenge was already spent).
   */
  async underLockout<T>(
    userId: string,
    check: () => Promise<{ verdict: 'pass' | 'fail' | 'none'; value: T }>,
  ): Promise<T> {
    const lockout = this.core.d.lockout;
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
      const spent = await this.core.d.db.transaction((tx) => this.spendFactor(userId, factor, tx));
      return { verdict: spent ? ('pass' as const) : ('fail' as const), value: spent };
    });
    if (!result) {
      await this.core.audit('mfa.verify.failed', userId, 'failure', ctx, {
        method: 'code' in factor ? 'totp' : 'backup_code',
        purpose,
      });
      throw mfaErrors.codeInvalid();
    }
    await this.afterFactor(userId, result, ctx, purpose);
    return result;
  }
}
