/**
 * Wires MFA into the app: `app.mfa` and `app.passkeys`, the login gate (second factor, trusted
 * devices, enforcement by role), trusted devices dropped whenever a user's tokens are all revoked,
 * the second factor of account protection (`app.accounts.useSecondFactor`), and the routes.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { loadOrCreateSecret } from '../../platform/secrets/index.js';
import { MfaKeyRing } from './crypto.js';
import { PasskeyService } from './passkeys.js';
import { deviceTokenOf, mfaRoutes } from './routes.js';
import type { Config } from '../../config/index.js';
import { hrefOf, type PublicUrlSource } from '../../config/public-url.js';
import { clientFingerprintOf } from '../../http/request-identity.js';
import { AMR, type LockoutHooks, type MfaSettings } from './core.js';
import { MfaService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    mfa: MfaService;
    passkeys: PasskeyService;
  }
}

export const GENERATED_MFA_KEY_NAME = 'mfa-encryption';

/** The service settings from configuration (the plugin and the CLI build the service alike). */
export function mfaSettingsOf(config: Config): MfaSettings {
  return {
    issuer: config.MFA_ISSUER,
    requiredRoles: config.MFA_REQUIRED_ROLES,
    graceDays: config.MFA_ENROLLMENT_GRACE_DAYS,
    trustedDeviceDays: config.TRUSTED_DEVICE_DAYS,
  };
}
const CLEANUP_INTERVAL_MS = 10 * 60_000;

/**
 * The relying party of passkeys: WEBAUTHN_RP_ID / WEBAUTHN_ORIGIN, else taken from the public URL
 * (`app.publicUrl`), read at each ceremony: its port is only known once the server listens.
 */
export function webauthnSettings(
  config: {
    WEBAUTHN_RP_ID?: string | undefined;
    WEBAUTHN_ORIGIN?: string[] | undefined;
    MFA_ISSUER: string;
  },
  publicUrl: PublicUrlSource,
  /** The relying party's name, read at each ceremony (the site settings' issuer); MFA_ISSUER by default. */
  rpName: () => string = () => config.MFA_ISSUER,
) {
  const current = () => new URL(hrefOf(publicUrl));
  return {
    get rpId(): string {
      return config.WEBAUTHN_RP_ID ?? current().hostname;
    },
    get rpName(): string {
      return rpName();
    },
    get origins(): string[] {
      return config.WEBAUTHN_ORIGIN ?? [current().origin];
    },
  };
}

/**
 * Account lockout (src/security/accounts, `app.accounts`): MFA failures count toward the same
 * per-account counter as wrong passwords (keyed by the email).
 */
function lockoutHooks(app: FastifyInstance): LockoutHooks {
  const accounts = app.accounts;
  const userOf = async (userId: string) => (await app.users.repo.get(userId)) ?? null;
  return {
    guard: async (userId) => {
      const user = await userOf(userId);
      if (user) await accounts.guardLogin(user.email);
    },
    failure: async (userId) => {
      const user = await userOf(userId);
      if (user)
        await accounts.onLoginFailure(user.email, { user: { id: user.id, email: user.email, name: user.name } });
    },
    success: async (userId) => {
      const user = await userOf(userId);
      if (user) await accounts.onLoginSuccess(user.email);
    },
    abandon: async (userId) => {
      const user = await userOf(userId);
      if (user) await accounts.onLoginAbandoned(user.email);
    },
  };
}

export const mfaPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, db, clock } = app.deps;
    const keys = new MfaKeyRing(
      config.MFA_ENCRYPTION_KEY ?? [await loadOrCreateSecret(config.DATA_DIR, GENERATED_MFA_KEY_NAME, 32)],
    );
    const mfa = new MfaService({
      db,
      clock,
      keys,
      settings: {
        ...mfaSettingsOf(config),
        // MFA_ISSUER when set, else the site name (src/settings/), read at each enrollment.
        get issuer() {
          return app.settings.totpIssuer();
        },
      },
      audit: app.audit,
      getUser: (userId) => app.users.repo.get(userId),
      lockout: lockoutHooks(app),
      notifyReset: async (user, at, tx) => {
        // MFA_RESET_MAIL_HOOK: the user learns that their second factors were removed.
        await app.mail.enqueue(
          app.mail.templates.mfaResetNotice({ to: { address: user.email, name: user.name }, at }),
          tx,
        );
      },
      revokeUser: (userId, reason) => app.tokens.revokeUser(userId, reason),
    });
    const passkeys = new PasskeyService({
      db,
      clock,
      repo: mfa.repo,
      mfa,
      settings: webauthnSettings(config, app.publicUrl, () => app.settings.totpIssuer()),
      audit: app.audit,
    });
    app.decorate('mfa', mfa);
    app.decorate('passkeys', passkeys);
    // The admin's users list shows which second factors each account has (never a secret).
    app.users.setSecondFactorSource((ids) => mfa.repo.factors.factorsOf(ids));

    // Every revocation of all of a user's tokens (logout everywhere, password change or reset,
    // admin action, MFA reset, disabled account) also forgets their trusted devices.
    app.tokens.onUserRevoked(async (userId, reason) => {
      await mfa.revokeAllDevices(userId, null, reason);
    });

    // An mfaToken is bound to the client that typed the password (src/http/request-identity.ts).
    const bindingOf = (request: FastifyRequest) => clientFingerprintOf(request);

    // After the password matched: no account, whatever its role, gets tokens without its second
    // factor; a user who must have MFA and has none gets a deadline, then a restricted token.
    app.auth.gates.add('mfa', async ({ user, request }) => {
      const ctx = app.audit.contextOf(request);
      const methods = await mfa.loginMethods(user.id);
      if (methods.length > 0) {
        const deviceToken = deviceTokenOf(request);
        if (deviceToken) {
          const deviceId = await mfa.isTrustedDevice(user.id, deviceToken);
          if (deviceId) {
            await app.audit.record({
              action: 'mfa.device.used',
              actor: user.id,
              outcome: 'success',
              target: { type: 'user', id: user.id },
              metadata: { deviceId },
              ...ctx,
            });
            return { kind: 'continue', amr: [AMR.device] };
          }
        }
        const { mfaToken } = await mfa.createLoginChallenge(user.id, bindingOf(request), ctx, methods);
        return { kind: 'respond', body: { mfaRequired: true, mfaToken, methods } };
      }
      const deadline = await mfa.enrollmentDeadline(user.id, user.roles);
      if (!deadline) return { kind: 'continue' };
      const extra = { mfaEnrollmentRequired: true, enrollBy: deadline.toISOString() };
      if (clock.now().getTime() < deadline.getTime()) return { kind: 'continue', extra };
      await app.audit.record({
        action: 'mfa.enrollment.enforced',
        actor: user.id,
        outcome: 'denied',
        target: { type: 'user', id: user.id },
        metadata: { enrollBy: extra.enrollBy },
        ...ctx,
      });
      return { kind: 'continue', restriction: 'mfa_enrollment', extra };
    });

    // Account protection asks the second factor for trusted devices and step-up challenges.
    app.accounts.useSecondFactor({
      trustedDeviceOf: async (userId, request) => {
        const token = deviceTokenOf(request);
        return token ? mfa.isTrustedDevice(userId, token) : null;
      },
      loginMethods: (userId) => mfa.loginMethods(userId),
      challenge: (userId, request, methods) =>
        mfa.createLoginChallenge(userId, bindingOf(request), app.audit.contextOf(request), methods),
    });

    await app.register(mfaRoutes);

    let timer: NodeJS.Timeout | undefined;
    app.addHook('onReady', async () => {
      timer = setInterval(() => {
        mfa.repo.challenges
          .deleteExpiredChallenges(new Date(clock.now().getTime() - 3_600_000))
          .catch((err: unknown) => app.log.warn({ err }, 'mfa: challenge cleanup failed'));
      }, CLEANUP_INTERVAL_MS);
      timer.unref();
    });
    app.addHook('onClose', async () => clearInterval(timer));
  },
  {
    name: 'mfa',
    dependencies: ['deps', 'users', 'tokens', 'authenticate', 'auth', 'audit', 'mail', 'accounts', 'settings'],
  },
);
