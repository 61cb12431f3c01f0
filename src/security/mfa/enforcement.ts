/**
 * What a user has and must have: the status page, the methods a login may use, and enforcement
 * by role (MFA_REQUIRED_ROLES, with a grace period of MFA_ENROLLMENT_GRACE_DAYS).
 */
import type { Queryable } from '../../platform/db/index.js';
import { DAY_MS, type MfaCore, type MfaMethod, type MfaStatus } from './core.js';

export class MfaEnforcement {
  constructor(private readonly core: MfaCore) {}

  async status(userId: string, roles: readonly string[]): Promise<MfaStatus> {
    const { repo } = this.core;
    const now = this.core.now();
    const [totp, methods, codes, devices] = await Promise.all([
      repo.factors.getTotp(userId),
      repo.factors.methodsOf(userId),
      repo.factors.countBackupCodes(userId),
      repo.devices.countDevices(userId, now),
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
        (await repo.factors.requiredSince(userId, now)).getTime() + this.core.d.settings.graceDays * DAY_MS,
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
    const m = await this.core.repo.factors.methodsOf(userId, tx);
    const list: MfaMethod[] = [];
    if (m.totp) list.push('totp');
    if (m.passkeys > 0) list.push('passkey');
    if (list.length > 0 && m.backupCodes > 0) list.push('backup_code');
    return list;
  }

  isRequiredFor(roles: readonly string[]): boolean {
    return roles.some((r) => this.core.d.settings.requiredRoles.includes(r));
  }

  /**
   * For a user who must use MFA (by role) and has none: when the grace period ends. The start is
   * recorded at the first such sign-in and survives MFA resets, so nobody gets a fresh grace.
   */
  async enrollmentDeadline(userId: string, roles: readonly string[]): Promise<Date | null> {
    if (!this.isRequiredFor(roles)) return null;
    const since = await this.core.repo.factors.requiredSince(userId, this.core.now());
    return new Date(since.getTime() + this.core.d.settings.graceDays * DAY_MS);
  }
}
