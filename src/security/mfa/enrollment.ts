/**
 * The factors a user sets up and removes: TOTP enrollment (start, confirm), backup codes (first
 * set, regenerate), and disabling MFA. Every change re-checks the password; removing or replacing
 * factors also needs a factor.
 */
import { newId } from '../../platform/ids.js';
import type { Queryable } from '../../platform/db/index.js';
import type { RequestContext } from '../audit/event.js';
import type { FactorInput, MfaCore } from './core.js';
import { mfaErrors } from './errors.js';
import type { FactorChecks } from './factors.js';
import {
  BACKUP_CODE_COUNT,
  matchStep,
  newBackupCode,
  newTotpSecret,
  normaliseBackupCode,
  qrDataUrl,
  totpUri,
} from './totp.js';

function freshBackupCodes(): string[] {
  return Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode);
}

export class Enrollment {
  constructor(
    private readonly core: MfaCore,
    private readonly factors: FactorChecks,
  ) {}

  // ---- TOTP enrollment ------------------------------------------------------------------------

  async startTotpEnrollment(
    userId: string,
    password: string,
    ctx: RequestContext,
  ): Promise<{ secret: string; otpauthUri: string; qrCode: string }> {
    const { core } = this;
    const user = await core.user(userId);
    await core.checkPassword(user, password, ctx, 'totp_enroll');
    const secret = newTotpSecret();
    const { ciphertext, keyId } = core.d.keys.encrypt(secret, userId);
    const stored = await core.d.db.transaction(async (tx) => {
      const ok = await core.repo.factors.putPendingTotp(userId, ciphertext, keyId, core.now(), tx);
      if (ok) await core.audit('mfa.totp.enroll_started', userId, 'success', ctx, {}, tx);
      return ok;
    });
    if (!stored) throw mfaErrors.alreadyEnabled();
    const otpauthUri = totpUri(secret, core.d.settings.issuer, user.email);
    return { secret, otpauthUri, qrCode: await qrDataUrl(otpauthUri) };
  }

  async confirmTotp(userId: string, code: string, ctx: RequestContext): Promise<{ backupCodes: string[] }> {
    const { core } = this;
    await core.user(userId);
    const row = await core.repo.factors.getTotp(userId);
    if (!row) throw mfaErrors.enrollmentNotStarted();
    if (row.confirmedAt !== null) throw mfaErrors.alreadyEnabled();
    const secret = core.decryptSecret(userId, row.secretCiphertext, row.keyId);
    const step = matchStep(secret, code, core.now().getTime());
    const codes = freshBackupCodes();
    const done =
      step === null
        ? false
        : await core.d.db.transaction(async (tx) => {
            if (!(await core.repo.factors.useTotpStep(userId, step, tx))) return false;
            if (!(await core.repo.factors.confirmTotp(userId, core.now(), tx))) throw mfaErrors.alreadyEnabled();
            await this.storeBackupCodes(userId, codes, tx);
            await core.audit('mfa.totp.enrolled', userId, 'success', ctx, { backupCodes: BACKUP_CODE_COUNT }, tx);
            return true;
          });
    if (!done) {
      await core.audit('mfa.verify.failed', userId, 'failure', ctx, { purpose: 'totp_confirm', method: 'totp' });
      throw mfaErrors.codeInvalid();
    }
    return { backupCodes: codes };
  }

  private async storeBackupCodes(userId: string, codes: readonly string[], tx: Queryable): Promise<void> {
    const rows = codes.map((c) => {
      const [current] = this.core.d.keys.backupCodeHashes(userId, normaliseBackupCode(c)!);
      return { id: newId(), hash: current!.hash, keyId: current!.keyId };
    });
    await this.core.repo.factors.replaceBackupCodes(userId, rows, this.core.now(), tx);
  }

  // ---- disable, regenerate ---------------------------------------------------------------------

  /** True when the user has a factor that signs in (TOTP or a passkey); backup codes alone are not. */
  private async hasFactor(userId: string): Promise<boolean> {
    const methods = await this.core.repo.factors.methodsOf(userId);
    return methods.totp || methods.passkeys > 0;
  }

  async disable(userId: string, password: string, factor: FactorInput, ctx: RequestContext): Promise<void> {
    const { core } = this;
    const user = await core.user(userId);
    await core.checkPassword(user, password, ctx, 'mfa_disable');
    if (!(await this.hasFactor(userId))) throw mfaErrors.notEnabled();
    await this.factors.checkFactor(userId, factor, ctx, 'mfa_disable');
    await core.d.db.transaction(async (tx) => {
      await this.removeAllFactors(userId, tx);
      await core.audit('mfa.disabled', userId, 'success', ctx, {}, tx);
    });
  }

  private async removeAllFactors(userId: string, tx: Queryable): Promise<void> {
    const { repo } = this.core;
    await repo.factors.deleteTotp(userId, tx);
    await repo.factors.deleteBackupCodes(userId, tx);
    await repo.credentials.deleteCredentials(userId, tx);
    await repo.devices.revokeAllDevices(userId, this.core.now(), tx);
    await repo.challenges.deleteChallengesOf(userId, tx);
  }

  async regenerateBackupCodes(
    userId: string,
    password: string,
    factor: FactorInput,
    ctx: RequestContext,
  ): Promise<{ backupCodes: string[] }> {
    const { core } = this;
    const user = await core.user(userId);
    await core.checkPassword(user, password, ctx, 'backup_codes_regenerate');
    if (!(await this.hasFactor(userId))) throw mfaErrors.notEnabled();
    await this.factors.checkFactor(userId, factor, ctx, 'backup_codes_regenerate');
    const codes = freshBackupCodes();
    await core.d.db.transaction(async (tx) => {
      await this.storeBackupCodes(userId, codes, tx);
      await core.audit('mfa.backup_codes.regenerated', userId, 'success', ctx, { count: BACKUP_CODE_COUNT }, tx);
    });
    return { backupCodes: codes };
  }

  /** First backup codes for a user who set up a passkey before any other method. */
  async issueBackupCodesIfNone(userId: string, ctx: RequestContext): Promise<string[] | undefined> {
    const { core } = this;
    const { total } = await core.repo.factors.countBackupCodes(userId);
    if (total > 0) return undefined;
    const codes = freshBackupCodes();
    await core.d.db.transaction(async (tx) => {
      await this.storeBackupCodes(userId, codes, tx);
      await core.audit(
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
}
