/**
 * Recovery and key care: the admin reset of a user who lost their factors, and re-encrypting
 * TOTP secrets after MFA_ENCRYPTION_KEY gained a new first key (`cli mfa rewrap-keys`).
 */
import type { RequestContext } from '../audit/event.js';
import type { MfaCore } from './core.js';

export class MfaRecovery {
  constructor(private readonly core: MfaCore) {}

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
    const { core } = this;
    const { repo } = core;
    const userId = target.id;
    const now = core.now();
    const result = await core.d.db.transaction(async (tx) => {
      const totp = (await repo.factors.deleteTotp(userId, tx)) > 0;
      const backupCodes = await repo.factors.deleteBackupCodes(userId, tx);
      const passkeys = await repo.credentials.deleteCredentials(userId, tx);
      const devices = await repo.devices.revokeAllDevices(userId, now, tx);
      await repo.challenges.deleteChallengesOf(userId, tx);
      const removed = { totp, passkeys, backupCodes, devices };
      await core.audit('mfa.reset', userId, 'success', ctx, { removed }, tx, adminId);
      // The notice commits with the reset (the outbox row is in the same transaction).
      await core.d.notifyReset?.(target, now, tx);
      return { removed };
    });
    await core.d.revokeUser?.(userId, 'mfa_reset');
    return result;
  }

  /** Re-encrypts every TOTP secret not under the current key (after MFA_ENCRYPTION_KEY gained a new first key). */
  async rewrapSecrets(batch = 500): Promise<{ rewrapped: number; failed: number }> {
    const { keys } = this.core.d;
    const { repo } = this.core;
    let rewrapped = 0;
    let failed = 0;
    const current = keys.currentKeyId;
    const seen = new Set<string>();
    for (;;) {
      const rows = (await repo.factors.listTotpNotUnderKey(current, batch)).filter((r) => !seen.has(r.userId));
      if (rows.length === 0) break;
      for (const row of rows) {
        seen.add(row.userId);
        let secret: string;
        try {
          secret = keys.decrypt(row.secretCiphertext, row.keyId, row.userId);
        } catch {
          failed++;
          continue;
        }
        const { ciphertext, keyId } = keys.encrypt(secret, row.userId);
        if (await repo.factors.rewrapTotp(row.userId, row.keyId, ciphertext, keyId, this.core.now())) rewrapped++;
      }
    }
    return { rewrapped, failed };
  }
}
