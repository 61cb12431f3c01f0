/**
 * Passkeys (WebAuthn) with @simplewebauthn/server: registration, use as the second factor of a
 * password login, and passwordless sign-in (a user-verified passkey is itself multi-factor:
 * something you have plus the PIN or biometric that unlocks it, and phishing-resistant because
 * the browser binds the signature to our origin).
 *
 * Each ceremony's WebAuthn challenge is a random 256-bit value stored hashed in `mfa_challenges`
 * (bound to the client and, for registration, to the user) and single use. The challenge the
 * browser signed is read back from clientDataJSON to find the row, then checked by the library
 * against the stored value, with the expected origin and RP id from configuration.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import { newId } from '../../platform/ids.js';
import { lazyModule } from '../../platform/lazy.js';
import { userEvent, type AuditEventInput, type RequestContext } from '../audit/event.js';
import { newToken, sameText, tokenHash } from './crypto.js';
import { mfaErrors } from './errors.js';
import type { CredentialRow, MfaRepository } from './repository.js';
import { AMR, type VerifiedFactor } from './core.js';
import type { MfaService } from './service.js';

const CEREMONY_TTL_MS = 5 * 60_000;

/**
 * @simplewebauthn/server and its ASN.1/X.509 stack (about 25 MB of memory) load with the first
 * passkey ceremony, not at start.
 */
const loadWebAuthn = lazyModule(
  (): Promise<typeof import('@simplewebauthn/server')> => import('@simplewebauthn/server'),
);

export interface PasskeySettings {
  rpId: string;
  rpName: string;
  origins: readonly string[];
}

export interface PasskeyView {
  id: string;
  name: string;
  deviceType: string;
  backedUp: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

export function passkeyView(c: CredentialRow): PasskeyView {
  return {
    id: c.id,
    name: c.name,
    deviceType: c.deviceType,
    backedUp: c.backedUp,
    createdAt: c.createdAt.toISOString(),
    lastUsedAt: c.lastUsedAt ? c.lastUsedAt.toISOString() : null,
  };
}

/** The challenge the browser signed, read from clientDataJSON (untrusted: only used to find the row). */
function signedChallenge(clientDataJSON: unknown): string | null {
  if (typeof clientDataJSON !== 'string' || clientDataJSON.length > 8192) return null;
  try {
    const parsed = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' && /^[A-Za-z0-9_-]{43}$/.test(parsed.challenge)
      ? parsed.challenge
      : null;
  } catch {
    return null;
  }
}

function transportsOf(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((t): t is string => typeof t === 'string' && t.length <= 20).slice(0, 10)
    : [];
}

export class PasskeyService {
  constructor(
    private readonly d: {
      db: Db;
      clock: Clock;
      repo: MfaRepository;
      mfa: MfaService;
      settings: PasskeySettings;
      audit: { record(event: AuditEventInput, tx?: Queryable): Promise<void> };
    },
  ) {}

  private now(): Date {
    return this.d.clock.now();
  }

  private async audit(
    action: string,
    userId: string | null,
    outcome: 'success' | 'failure',
    ctx: RequestContext,
    metadata: Record<string, unknown> = {},
    tx?: Queryable,
  ) {
    await this.d.audit.record(userEvent(action, userId, outcome, ctx, metadata), tx);
  }

  // ---- registration ---------------------------------------------------------------------------

  async registrationOptions(
    user: { id: string; email: string },
    binding: string,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.d.repo.credentials.listCredentials(user.id);
    const challenge = newToken();
    const challengeBytes = new Uint8Array(Buffer.from(challenge, 'base64url'));
    const { generateRegistrationOptions } = await loadWebAuthn();
    const options = await generateRegistrationOptions({
      rpName: this.d.settings.rpName,
      rpID: this.d.settings.rpId,
      userName: user.email,
      userID: new TextEncoder().encode(user.id),
      challenge: challengeBytes,
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: c.transports })),
      // Discoverable, so the same passkey also signs in without a password.
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      timeout: CEREMONY_TTL_MS,
    });
    const now = this.now();
    await this.d.repo.challenges.createChallenge(
      {
        id: newId(),
        kind: 'passkey_register',
        tokenHash: tokenHash(challenge),
        userId: user.id,
        bindingHash: binding,
        webauthnChallenge: challenge,
        expiresAt: new Date(now.getTime() + CEREMONY_TTL_MS),
      },
      now,
    );
    return options;
  }

  async register(
    userId: string,
    response: RegistrationResponseJSON,
    name: string | undefined,
    binding: string,
    ctx: RequestContext,
  ): Promise<{ passkey: PasskeyView; backupCodes?: string[] }> {
    const challenge = signedChallenge(response.response?.clientDataJSON);
    const ch = challenge
      ? await this.d.repo.challenges.getChallenge('passkey_register', tokenHash(challenge))
      : undefined;
    // Single use, this user's, this client's, in time: anything else is the same refusal.
    if (
      !ch ||
      ch.userId !== userId ||
      !sameText(ch.bindingHash, binding) ||
      !(await this.d.repo.challenges.consumeChallenge(ch.id, this.now()))
    ) {
      await this.audit('mfa.passkey.register.failed', userId, 'failure', ctx, { reason: 'challenge' });
      throw mfaErrors.passkeyChallengeInvalid();
    }
    const { verifyRegistrationResponse } = await loadWebAuthn();
    let verified;
    try {
      verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: ch.webauthnChallenge ?? '',
        expectedOrigin: [...this.d.settings.origins],
        expectedRPID: this.d.settings.rpId,
        requireUserVerification: false,
      });
    } catch (err) {
      await this.audit('mfa.passkey.register.failed', userId, 'failure', ctx, {
        reason: 'verification',
        error: (err as Error).message.slice(0, 200),
      });
      throw mfaErrors.passkeyInvalid();
    }
    if (!verified.verified) {
      await this.audit('mfa.passkey.register.failed', userId, 'failure', ctx, { reason: 'verification' });
      throw mfaErrors.passkeyInvalid();
    }
    const info = verified.registrationInfo;
    const row = {
      id: newId(),
      userId,
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: transportsOf(info.credential.transports),
      name: (name ?? '').trim() || 'Passkey',
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      createdAt: this.now(),
    };
    await this.d.db.transaction(async (tx) => {
      if (await this.d.repo.credentials.getCredentialByCredentialId(row.credentialId, tx))
        throw mfaErrors.passkeyInvalid('This passkey is already registered');
      await this.d.repo.credentials.createCredential(row, tx);
      await this.audit(
        'mfa.passkey.registered',
        userId,
        'success',
        ctx,
        { passkeyId: row.id, deviceType: row.deviceType, backedUp: row.backedUp },
        tx,
      );
    });
    const backupCodes = await this.d.mfa.issueBackupCodesIfNone(userId, ctx);
    return { passkey: passkeyView({ ...row, lastUsedAt: null }), ...(backupCodes ? { backupCodes } : {}) };
  }

  async list(userId: string): Promise<PasskeyView[]> {
    return (await this.d.repo.credentials.listCredentials(userId)).map(passkeyView);
  }

  /** A new name for one of the user's passkeys; null when it has no such passkey. */
  async rename(userId: string, id: string, name: string, ctx: RequestContext): Promise<PasskeyView | null> {
    return this.d.db.transaction(async (tx) => {
      const row = await this.d.repo.credentials.renameCredential(userId, id, name, tx);
      if (!row) return null;
      await this.audit('mfa.passkey.renamed', userId, 'success', ctx, { passkeyId: id }, tx);
      return passkeyView(row);
    });
  }

  async remove(userId: string, id: string, ctx: RequestContext): Promise<boolean> {
    return this.d.db.transaction(async (tx) => {
      const ok = await this.d.repo.credentials.deleteCredential(userId, id, tx);
      if (ok) await this.audit('mfa.passkey.removed', userId, 'success', ctx, { passkeyId: id }, tx);
      return ok;
    });
  }

  // ---- authentication -------------------------------------------------------------------------

  /** Options for a passkey as the second factor of the login behind `mfaToken`. */
  async secondFactorOptions(mfaToken: string, binding: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const ch = await this.d.repo.challenges.getChallenge('login', tokenHash(mfaToken));
    const now = this.now();
    if (
      !ch ||
      !ch.userId ||
      ch.usedAt !== null ||
      ch.expiresAt <= now ||
      ch.attempts >= 5 ||
      !sameText(ch.bindingHash, binding)
    )
      throw mfaErrors.tokenInvalid();
    const creds = await this.d.repo.credentials.listCredentials(ch.userId);
    if (creds.length === 0) throw mfaErrors.methodUnavailable('No passkey is registered for this account');
    const challenge = newToken();
    const challengeBytes = new Uint8Array(Buffer.from(challenge, 'base64url'));
    await this.d.repo.challenges.setWebauthnChallenge(ch.id, challenge);
    return (await loadWebAuthn()).generateAuthenticationOptions({
      rpID: this.d.settings.rpId,
      challenge: challengeBytes,
      allowCredentials: creds.map((c) => ({ id: c.credentialId, transports: c.transports })),
      userVerification: 'preferred',
      timeout: CEREMONY_TTL_MS,
    });
  }

  /**
   * Checks an assertion against the stored challenge and a credential of `userId` (null:
   * any user, the passwordless case), and moves the signature counter inside `tx`.
   */
  private async checkAssertion(
    response: AuthenticationResponseJSON,
    expectedChallenge: string,
    userId: string | null,
    requireUserVerification: boolean,
    tx: Queryable,
  ): Promise<CredentialRow | null> {
    if (typeof response?.id !== 'string' || response.id.length > 1024) return null;
    const cred = await this.d.repo.credentials.getCredentialByCredentialId(response.id, tx);
    if (!cred || (userId !== null && cred.userId !== userId)) return null;
    const { verifyAuthenticationResponse } = await loadWebAuthn();
    let result;
    try {
      result = await verifyAuthenticationResponse({
        response,
        expectedChallenge,
        expectedOrigin: [...this.d.settings.origins],
        expectedRPID: this.d.settings.rpId,
        credential: {
          id: cred.credentialId,
          publicKey: Buffer.from(cred.publicKey, 'base64url'),
          counter: cred.counter,
          transports: cred.transports,
        },
        requireUserVerification,
      });
    } catch {
      return null;
    }
    if (!result.verified) return null;
    // Compare-and-set on the counter: a concurrent use of the same assertion loses here.
    if (
      !(await this.d.repo.credentials.updateCounter(
        cred.id,
        cred.counter,
        result.authenticationInfo.newCounter,
        this.now(),
        tx,
      ))
    )
      return null;
    return cred;
  }

  /** The passkey as the second factor of a password login. */
  async verifySecondFactor(
    mfaToken: string,
    response: AuthenticationResponseJSON,
    binding: string,
    ctx: RequestContext,
  ): Promise<{ userId: string; factor: VerifiedFactor }> {
    const ch = await this.d.mfa.takeLoginChallenge(mfaToken, binding, ctx);
    const expected = ch.webauthnChallenge;
    return this.d.mfa.completeChallenge(ch, ctx, 'passkey', async (tx) => {
      if (!expected) return null;
      const cred = await this.checkAssertion(response, expected, ch.userId, false, tx);
      return cred ? { method: 'passkey', amr: [AMR.passkey, AMR.mfa] } : null;
    });
  }

  /** Passwordless sign-in, step 1: options for any discoverable passkey of this site. */
  async signInOptions(binding: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const challenge = newToken();
    const challengeBytes = new Uint8Array(Buffer.from(challenge, 'base64url'));
    const now = this.now();
    await this.d.repo.challenges.createChallenge(
      {
        id: newId(),
        kind: 'passkey_login',
        tokenHash: tokenHash(challenge),
        userId: null,
        bindingHash: binding,
        webauthnChallenge: challenge,
        expiresAt: new Date(now.getTime() + CEREMONY_TTL_MS),
      },
      now,
    );
    return (await loadWebAuthn()).generateAuthenticationOptions({
      rpID: this.d.settings.rpId,
      challenge: challengeBytes,
      userVerification: 'required',
      timeout: CEREMONY_TTL_MS,
    });
  }

  /**
   * Passwordless sign-in, step 2. User verification is required: only then is the passkey two
   * factors on its own. Returns the user and the amr of the sign-in.
   */
  async signIn(
    response: AuthenticationResponseJSON,
    binding: string,
    ctx: RequestContext,
  ): Promise<{ userId: string; amr: string[] }> {
    const challenge = signedChallenge(response?.response?.clientDataJSON);
    const ch = challenge ? await this.d.repo.challenges.getChallenge('passkey_login', tokenHash(challenge)) : undefined;
    if (!ch || !sameText(ch.bindingHash, binding)) {
      await this.audit('mfa.passkey.login.failed', null, 'failure', ctx, { reason: 'challenge' });
      throw mfaErrors.passkeyChallengeInvalid();
    }
    const userId = await this.d.db.transaction(async (tx) => {
      if (!(await this.d.repo.challenges.consumeChallenge(ch.id, this.now(), tx))) return 'challenge' as const;
      const cred = await this.checkAssertion(response, ch.webauthnChallenge ?? '', null, true, tx);
      return cred ? cred.userId : null;
    });
    if (userId === 'challenge') {
      await this.audit('mfa.passkey.login.failed', null, 'failure', ctx, { reason: 'challenge' });
      throw mfaErrors.passkeyChallengeInvalid();
    }
    if (userId === null) {
      await this.audit('mfa.passkey.login.failed', null, 'failure', ctx, { reason: 'verification' });
      throw mfaErrors.passkeyInvalid();
    }
    await this.audit('mfa.passkey.login.succeeded', userId, 'success', ctx, {});
    return { userId, amr: [AMR.passkey, 'user', AMR.mfa] };
  }
}
