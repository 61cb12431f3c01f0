/**
 * What every part of the MFA service shares: its settings and dependencies, the types of a
 * factor and of the status, and `MfaCore`, the few helpers each part uses (the clock, the audit
 * trail, the user, the password re-check, the TOTP secret).
 */
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import { verifyPassword } from '../../users/password.js';
import { userEvent, type AuditEventInput, type RequestContext } from '../audit/event.js';
import { MfaDecryptError, type MfaKeyRing } from './crypto.js';
import { mfaErrors } from './errors.js';
import type { MfaRepository } from './repository.js';

export const MFA_TOKEN_TTL_MS = 5 * 60_000;
export const MFA_MAX_ATTEMPTS = 5;
export const BACKUP_CODES_LOW = 2;
export const DAY_MS = 86_400_000;

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

/** The helpers every part of the MFA service uses. */
export class MfaCore {
  constructor(
    readonly d: MfaServiceDeps,
    readonly repo: MfaRepository,
  ) {}

  now(): Date {
    return this.d.clock.now();
  }

  async audit(
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

  async user(userId: string): Promise<MfaUser> {
    const user = await this.d.getUser(userId);
    if (!user || user.disabled) throw mfaErrors.tokenInvalid();
    return user;
  }

  /** Re-checks the password for sensitive changes: "it is really the owner, not a stolen session". */
  async checkPassword(user: MfaUser, password: string, ctx: RequestContext, purpose: string): Promise<void> {
    if (!(await verifyPassword(user.passwordHash, password))) {
      await this.audit('mfa.password.failed', user.id, 'failure', ctx, { purpose });
      await this.d.lockout?.failure(user.id);
      throw mfaErrors.passwordInvalid();
    }
  }

  decryptSecret(userId: string, ciphertext: string, keyId: string): string {
    try {
      return this.d.keys.decrypt(ciphertext, keyId, userId);
    } catch (err) {
      if (err instanceof MfaDecryptError)
        throw mfaErrors.unavailable('The TOTP secret cannot be decrypted with the configured MFA_ENCRYPTION_KEY');
      throw err;
    }
  }
}
