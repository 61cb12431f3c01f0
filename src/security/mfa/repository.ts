/**
 * The only SQL of the MFA module, split by table family into the parts `MfaRepository` holds
 * (factors, challenges, devices, credentials). Every method takes an optional transaction. Times
 * come from the injected clock (`now` parameters), never from the database's now(), so tests move
 * time.
 *
 * The methods that spend something (a TOTP step, a backup code, an mfaToken attempt) are single
 * compare-and-set statements: on PostgreSQL two nodes racing on the same row are serialised by
 * the row lock, and the loser's re-checked WHERE clause no longer matches, so exactly one wins.
 */
import type { Queryable } from '../../platform/db/index.js';

export interface TotpRow {
  userId: string;
  secretCiphertext: string;
  keyId: string;
  confirmedAt: Date | null;
  lastUsedStep: number;
}

export type ChallengeKind = 'login' | 'passkey_register' | 'passkey_login';

export interface ChallengeRow {
  id: string;
  kind: ChallengeKind;
  userId: string | null;
  bindingHash: string;
  webauthnChallenge: string | null;
  attempts: number;
  expiresAt: Date;
  usedAt: Date | null;
}

export interface DeviceRow {
  id: string;
  userId: string;
  label: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date;
}

export interface CredentialRow {
  id: string;
  userId: string;
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  name: string;
  deviceType: string;
  backedUp: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

const CHALLENGE_COLUMNS = `id, kind, user_id as "userId", binding_hash as "bindingHash",
  webauthn_challenge as "webauthnChallenge", attempts, expires_at as "expiresAt", used_at as "usedAt"`;
const DEVICE_COLUMNS = `id, user_id as "userId", label, created_at as "createdAt", last_used_at as "lastUsedAt", expires_at as "expiresAt"`;
const CREDENTIAL_COLUMNS = `id, user_id as "userId", credential_id as "credentialId", public_key as "publicKey",
  counter::float8 as counter, transports, name, device_type as "deviceType", backed_up as "backedUp",
  created_at as "createdAt", last_used_at as "lastUsedAt"`;

/** The second factors themselves: the TOTP secret, backup codes, enforcement and the summary of both. */
export class FactorRepository {
  constructor(private readonly db: Queryable) {}

  // ---- TOTP ---------------------------------------------------------------------------------

  async getTotp(userId: string, tx: Queryable = this.db): Promise<TotpRow | undefined> {
    const rows = await tx.query<TotpRow>(
      `select user_id as "userId", secret_ciphertext as "secretCiphertext", key_id as "keyId",
         confirmed_at as "confirmedAt", last_used_step::float8 as "lastUsedStep"
       from mfa_totp where user_id = $1`,
      [userId],
    );
    return rows[0];
  }

  /** A pending (unconfirmed) enrollment; replaces an earlier pending one, never a confirmed one. */
  async putPendingTotp(
    userId: string,
    ciphertext: string,
    keyId: string,
    now: Date,
    tx: Queryable = this.db,
  ): Promise<boolean> {
    const rows = await tx.query(
      `insert into mfa_totp (user_id, secret_ciphertext, key_id, confirmed_at, last_used_step, created_at, updated_at)
       values ($1, $2, $3, null, -1, $4, $4)
       on conflict (user_id) do update set secret_ciphertext = excluded.secret_ciphertext, key_id = excluded.key_id,
         last_used_step = -1, created_at = excluded.created_at, updated_at = excluded.updated_at
       where mfa_totp.confirmed_at is null
       returning 1 as ok`,
      [userId, ciphertext, keyId, now],
    );
    return rows.length === 1;
  }

  /**
   * The replay guard: records `step` as used only if it is later than every step used before.
   * True for exactly one caller per (user, step), however many race.
   */
  async useTotpStep(userId: string, step: number, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query(
      `update mfa_totp set last_used_step = $2 where user_id = $1 and last_used_step < $2 returning 1 as ok`,
      [userId, step],
    );
    return rows.length === 1;
  }

  async confirmTotp(userId: string, now: Date, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query(
      `update mfa_totp set confirmed_at = $2, updated_at = $2 where user_id = $1 and confirmed_at is null returning 1 as ok`,
      [userId, now],
    );
    return rows.length === 1;
  }

  async rewrapTotp(
    userId: string,
    oldKeyId: string,
    ciphertext: string,
    keyId: string,
    now: Date,
    tx: Queryable = this.db,
  ): Promise<boolean> {
    const rows = await tx.query(
      `update mfa_totp set secret_ciphertext = $3, key_id = $4, updated_at = $5 where user_id = $1 and key_id = $2 returning 1 as ok`,
      [userId, oldKeyId, ciphertext, keyId, now],
    );
    return rows.length === 1;
  }

  async listTotpNotUnderKey(keyId: string, limit: number, tx: Queryable = this.db): Promise<TotpRow[]> {
    return tx.query<TotpRow>(
      `select user_id as "userId", secret_ciphertext as "secretCiphertext", key_id as "keyId",
         confirmed_at as "confirmedAt", last_used_step::float8 as "lastUsedStep"
       from mfa_totp where key_id <> $1 order by user_id limit $2`,
      [keyId, limit],
    );
  }

  async deleteTotp(userId: string, tx: Queryable = this.db): Promise<number> {
    return (await tx.query(`delete from mfa_totp where user_id = $1 returning 1 as ok`, [userId])).length;
  }

  // ---- backup codes -------------------------------------------------------------------------

  async replaceBackupCodes(
    userId: string,
    codes: readonly { id: string; hash: string; keyId: string }[],
    now: Date,
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(`delete from mfa_backup_codes where user_id = $1`, [userId]);
    for (const c of codes) {
      await tx.query(
        `insert into mfa_backup_codes (id, user_id, code_hash, key_id, used_at, created_at) values ($1, $2, $3, $4, null, $5)`,
        [c.id, userId, c.hash, c.keyId, now],
      );
    }
  }

  /** Spends one unused code matching any of the hashes; true for exactly one caller. */
  async useBackupCode(userId: string, hashes: readonly string[], now: Date, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query(
      `update mfa_backup_codes set used_at = $3
       where id = (select id from mfa_backup_codes where user_id = $1 and code_hash = any($2::text[]) and used_at is null limit 1)
         and used_at is null
       returning 1 as ok`,
      [userId, hashes, now],
    );
    return rows.length === 1;
  }

  async countBackupCodes(userId: string, tx: Queryable = this.db): Promise<{ total: number; remaining: number }> {
    const rows = await tx.query<{ total: number; remaining: number }>(
      `select count(*)::int as total, count(*) filter (where used_at is null)::int as remaining from mfa_backup_codes where user_id = $1`,
      [userId],
    );
    return rows[0] ?? { total: 0, remaining: 0 };
  }

  async deleteBackupCodes(userId: string, tx: Queryable = this.db): Promise<number> {
    return (await tx.query(`delete from mfa_backup_codes where user_id = $1 returning 1 as ok`, [userId])).length;
  }

  // ---- enforcement --------------------------------------------------------------------------

  /** When the user was first seen needing MFA; recorded now if never before. */
  async requiredSince(userId: string, now: Date, tx: Queryable = this.db): Promise<Date> {
    await tx.query(
      `insert into mfa_enforcement (user_id, required_since) values ($1, $2) on conflict (user_id) do nothing`,
      [userId, now],
    );
    const rows = await tx.query<{ requiredSince: Date }>(
      `select required_since as "requiredSince" from mfa_enforcement where user_id = $1`,
      [userId],
    );
    return rows[0]?.requiredSince ?? now;
  }

  // ---- whole status -------------------------------------------------------------------------

  /** Whether a second factor is set up: a confirmed TOTP or at least one passkey. */
  async methodsOf(
    userId: string,
    tx: Queryable = this.db,
  ): Promise<{ totp: boolean; passkeys: number; backupCodes: number }> {
    const rows = await tx.query<{ totp: boolean; passkeys: number; backupCodes: number }>(
      `select exists (select 1 from mfa_totp where user_id = $1 and confirmed_at is not null) as totp,
         (select count(*)::int from webauthn_credentials where user_id = $1) as passkeys,
         (select count(*)::int from mfa_backup_codes where user_id = $1 and used_at is null) as "backupCodes"`,
      [userId],
    );
    return rows[0] ?? { totp: false, passkeys: 0, backupCodes: 0 };
  }

  /** Which second factors each account has (the admin's users list): a confirmed TOTP, how many passkeys. */
  async factorsOf(
    userIds: readonly string[],
    tx: Queryable = this.db,
  ): Promise<Map<string, { totp: boolean; passkeys: number }>> {
    const out = new Map<string, { totp: boolean; passkeys: number }>();
    if (userIds.length === 0) return out;
    const rows = await tx.query<{ id: string; totp: boolean; passkeys: number }>(
      `select ids.id,
         exists (select 1 from mfa_totp t where t.user_id = ids.id and t.confirmed_at is not null) as totp,
         (select count(*)::int from webauthn_credentials w where w.user_id = ids.id) as passkeys
       from unnest($1::uuid[]) as ids (id)`,
      [[...userIds]],
    );
    for (const r of rows) out.set(r.id, { totp: r.totp, passkeys: r.passkeys });
    return out;
  }
}

/** Login challenges (`mfaToken`) and the WebAuthn ceremonies. */
export class ChallengeRepository {
  constructor(private readonly db: Queryable) {}

  async createChallenge(
    c: {
      id: string;
      kind: ChallengeKind;
      tokenHash: string;
      userId: string | null;
      bindingHash: string;
      webauthnChallenge: string | null;
      expiresAt: Date;
    },
    now: Date,
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into mfa_challenges (id, kind, token_hash, user_id, binding_hash, webauthn_challenge, attempts, expires_at, used_at, created_at)
       values ($1, $2, $3, $4, $5, $6, 0, $7, null, $8)`,
      [c.id, c.kind, c.tokenHash, c.userId, c.bindingHash, c.webauthnChallenge, c.expiresAt, now],
    );
  }

  async getChallenge(
    kind: ChallengeKind,
    tokenHash: string,
    tx: Queryable = this.db,
  ): Promise<ChallengeRow | undefined> {
    const rows = await tx.query<ChallengeRow>(
      `select ${CHALLENGE_COLUMNS} from mfa_challenges where token_hash = $1 and kind = $2`,
      [tokenHash, kind],
    );
    return rows[0];
  }

  /**
   * Takes one attempt from a live challenge: the counter rises atomically and only below `max`,
   * so however many requests race, at most `max` codes are ever checked against one mfaToken.
   * Returns the attempt number, or null when the challenge is spent, expired or out of attempts.
   */
  async takeAttempt(id: string, max: number, now: Date, tx: Queryable = this.db): Promise<number | null> {
    const rows = await tx.query<{ attempts: number }>(
      `update mfa_challenges set attempts = attempts + 1
       where id = $1 and used_at is null and expires_at > $2 and attempts < $3
       returning attempts`,
      [id, now, max],
    );
    return rows[0]?.attempts ?? null;
  }

  /** Marks a challenge used; true for exactly one caller. */
  async consumeChallenge(id: string, now: Date, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query(
      `update mfa_challenges set used_at = $2 where id = $1 and used_at is null and expires_at > $2 returning 1 as ok`,
      [id, now],
    );
    return rows.length === 1;
  }

  async setWebauthnChallenge(id: string, challenge: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(`update mfa_challenges set webauthn_challenge = $2 where id = $1`, [id, challenge]);
  }

  async deleteChallengesOf(userId: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(`delete from mfa_challenges where user_id = $1`, [userId]);
  }

  /** Housekeeping: challenges long past their expiry. */
  async deleteExpiredChallenges(before: Date, tx: Queryable = this.db): Promise<number> {
    return (await tx.query(`delete from mfa_challenges where expires_at < $1 returning 1 as ok`, [before])).length;
  }
}

/** Trusted devices: the "remember this device" tokens that skip the second factor. */
export class TrustedDeviceRepository {
  constructor(private readonly db: Queryable) {}

  async createDevice(
    d: { id: string; userId: string; tokenHash: string; label: string; expiresAt: Date },
    now: Date,
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into trusted_devices (id, user_id, token_hash, label, created_at, last_used_at, expires_at, revoked_at)
       values ($1, $2, $3, $4, $5, $5, $6, null)`,
      [d.id, d.userId, d.tokenHash, d.label, now, d.expiresAt],
    );
  }

  /** The live device with this token, only if it belongs to `userId`: another user's token finds nothing. */
  async touchDevice(
    userId: string,
    tokenHash: string,
    now: Date,
    tx: Queryable = this.db,
  ): Promise<DeviceRow | undefined> {
    const rows = await tx.query<DeviceRow>(
      `update trusted_devices set last_used_at = $3
       where token_hash = $2 and user_id = $1 and revoked_at is null and expires_at > $3
       returning ${DEVICE_COLUMNS}`,
      [userId, tokenHash, now],
    );
    return rows[0];
  }

  /** The id of the live device with this token, only if it belongs to `userId` (read only: "which is this one"). */
  async findLiveDevice(userId: string, tokenHash: string, now: Date, tx: Queryable = this.db): Promise<string | null> {
    const rows = await tx.query<{ id: string }>(
      `select id from trusted_devices where token_hash = $2 and user_id = $1 and revoked_at is null and expires_at > $3`,
      [userId, tokenHash, now],
    );
    return rows[0]?.id ?? null;
  }

  async listDevices(userId: string, now: Date, tx: Queryable = this.db): Promise<DeviceRow[]> {
    return tx.query<DeviceRow>(
      `select ${DEVICE_COLUMNS} from trusted_devices where user_id = $1 and revoked_at is null and expires_at > $2 order by id`,
      [userId, now],
    );
  }

  async countDevices(userId: string, now: Date, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(
      `select count(*)::int as n from trusted_devices where user_id = $1 and revoked_at is null and expires_at > $2`,
      [userId, now],
    );
    return rows[0]?.n ?? 0;
  }

  async revokeDevice(userId: string, id: string, now: Date, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query(
      `update trusted_devices set revoked_at = $3 where id = $2 and user_id = $1 and revoked_at is null returning 1 as ok`,
      [userId, id, now],
    );
    return rows.length === 1;
  }

  /** Every live device of the user, but `exceptId` when given (the caller's own device). */
  async revokeAllDevices(
    userId: string,
    now: Date,
    tx: Queryable = this.db,
    exceptId: string | null = null,
  ): Promise<number> {
    return (
      await tx.query(
        `update trusted_devices set revoked_at = $2
          where user_id = $1 and revoked_at is null and ($3::uuid is null or id <> $3::uuid) returning 1 as ok`,
        [userId, now, exceptId],
      )
    ).length;
  }
}

/** Passkeys: the stored WebAuthn credentials and their signature counters. */
export class PasskeyCredentialRepository {
  constructor(private readonly db: Queryable) {}

  async createCredential(c: Omit<CredentialRow, 'lastUsedAt'>, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      `insert into webauthn_credentials (id, user_id, credential_id, public_key, counter, transports, name, device_type, backed_up, created_at, last_used_at)
       values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, null)`,
      [
        c.id,
        c.userId,
        c.credentialId,
        c.publicKey,
        c.counter,
        JSON.stringify(c.transports),
        c.name,
        c.deviceType,
        c.backedUp,
        c.createdAt,
      ],
    );
  }

  async listCredentials(userId: string, tx: Queryable = this.db): Promise<CredentialRow[]> {
    return tx.query<CredentialRow>(
      `select ${CREDENTIAL_COLUMNS} from webauthn_credentials where user_id = $1 order by id`,
      [userId],
    );
  }

  async getCredentialByCredentialId(credentialId: string, tx: Queryable = this.db): Promise<CredentialRow | undefined> {
    const rows = await tx.query<CredentialRow>(
      `select ${CREDENTIAL_COLUMNS} from webauthn_credentials where credential_id = $1`,
      [credentialId],
    );
    return rows[0];
  }

  /**
   * Moves the signature counter forward (a cloned authenticator shows up as a counter that does
   * not rise). Authenticators that keep no counter report 0 every time; 0 -> 0 is allowed.
   */
  async updateCounter(
    id: string,
    oldCounter: number,
    newCounter: number,
    now: Date,
    tx: Queryable = this.db,
  ): Promise<boolean> {
    const rows = await tx.query(
      `update webauthn_credentials set counter = $3, last_used_at = $4 where id = $1 and counter = $2 returning 1 as ok`,
      [id, oldCounter, newCounter, now],
    );
    return rows.length === 1;
  }

  /** Renames a passkey of this user; another user's passkey (or none) finds nothing. */
  async renameCredential(
    userId: string,
    id: string,
    name: string,
    tx: Queryable = this.db,
  ): Promise<CredentialRow | undefined> {
    const rows = await tx.query<CredentialRow>(
      `update webauthn_credentials set name = $3 where id = $2 and user_id = $1 returning ${CREDENTIAL_COLUMNS}`,
      [userId, id, name],
    );
    return rows[0];
  }

  async deleteCredential(userId: string, id: string, tx: Queryable = this.db): Promise<boolean> {
    return (
      (
        await tx.query(`delete from webauthn_credentials where id = $2 and user_id = $1 returning 1 as ok`, [
          userId,
          id,
        ])
      ).length === 1
    );
  }

  async deleteCredentials(userId: string, tx: Queryable = this.db): Promise<number> {
    return (await tx.query(`delete from webauthn_credentials where user_id = $1 returning 1 as ok`, [userId])).length;
  }
}

/** The whole MFA repository, one part per table family: `repo.factors`, `repo.challenges`, ... */
export class MfaRepository {
  readonly factors: FactorRepository;
  readonly challenges: ChallengeRepository;
  readonly devices: TrustedDeviceRepository;
  readonly credentials: PasskeyCredentialRepository;

  constructor(db: Queryable) {
    this.factors = new FactorRepository(db);
    this.challenges = new ChallengeRepository(db);
    this.devices = new TrustedDeviceRepository(db);
    this.credentials = new PasskeyCredentialRepository(db);
  }
}
