/**
 * Trusted devices ("remember this device"): a random token, stored hashed, valid
 * TRUSTED_DEVICE_DAYS, bound to the user. A live one skips the second factor at login.
 */
import { newId } from '../../platform/ids.js';
import type { RequestContext } from '../audit/event.js';
import { DAY_MS, type MfaCore } from './core.js';
import { newToken, tokenHash } from './crypto.js';

export class TrustedDevices {
  constructor(private readonly core: MfaCore) {}

  async trustDevice(
    userId: string,
    label: string,
    ctx: RequestContext,
  ): Promise<{ deviceToken: string; expiresAt: Date; id: string }> {
    const { core } = this;
    const deviceToken = newToken();
    const now = core.now();
    const expiresAt = new Date(now.getTime() + core.d.settings.trustedDeviceDays * DAY_MS);
    const id = newId();
    await core.d.db.transaction(async (tx) => {
      await core.repo.devices.createDevice(
        { id, userId, tokenHash: tokenHash(deviceToken), label: label.slice(0, 200), expiresAt },
        now,
        tx,
      );
      await core.audit(
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

  /** The device id when the token is a live trusted device of this user (another user's token: null). */
  async isTrustedDevice(userId: string, deviceToken: string): Promise<string | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(deviceToken)) return null;
    const device = await this.core.repo.devices.touchDevice(userId, tokenHash(deviceToken), this.core.now());
    return device?.id ?? null;
  }

  /** Which live device of this user the token is, without touching it (the devices list marks it). */
  async currentDeviceId(userId: string, deviceToken: string | null): Promise<string | null> {
    if (deviceToken === null || !/^[A-Za-z0-9_-]{43}$/.test(deviceToken)) return null;
    return this.core.repo.devices.findLiveDevice(userId, tokenHash(deviceToken), this.core.now());
  }

  listDevices(userId: string) {
    return this.core.repo.devices.listDevices(userId, this.core.now());
  }

  async revokeDevice(userId: string, id: string, ctx: RequestContext): Promise<boolean> {
    const { core } = this;
    return core.d.db.transaction(async (tx) => {
      const ok = await core.repo.devices.revokeDevice(userId, id, core.now(), tx);
      if (ok) await core.audit('mfa.device.revoked', userId, 'success', ctx, { deviceId: id }, tx);
      return ok;
    });
  }

  /** Every trusted device of the user, or every one but `exceptId` (the caller's own: "all others"). */
  async revokeAllDevices(
    userId: string,
    ctx: RequestContext | null,
    reason: string,
    exceptId: string | null = null,
  ): Promise<number> {
    const { core } = this;
    return core.d.db.transaction(async (tx) => {
      const n = await core.repo.devices.revokeAllDevices(userId, core.now(), tx, exceptId);
      if (n > 0) {
        await core.d.audit.record(
          {
            action: 'mfa.device.revoked',
            actor: ctx ? userId : 'system',
            outcome: 'success',
            target: { type: 'user', id: userId },
            metadata: { all: true, count: n, reason, ...(exceptId ? { kept: exceptId } : {}) },
            ...(ctx ?? {}),
          },
          tx,
        );
      }
      return n;
    });
  }
}
