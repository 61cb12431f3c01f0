import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { canonicalEmail } from '../../users/email.js';
import { ContactService } from './contact.js';
import { AccountFlows } from './flows.js';
import { scheduleHousekeeping } from './housekeeping.js';
import { Lockout } from './lockout.js';
import { OneTimeTokens } from './one-time-tokens.js';
import { PasswordHistory } from './password-history.js';
import { accountRoutes } from './routes.js';
import { AccountSecurity, ENDS_ONE_TIME_LINKS } from './service.js';
import { SuspiciousLogins } from './suspicious.js';

/** `app.accounts`: lockout, one-time tokens, password history, flows, suspicious logins, contact form. */
export interface AccountsDecoration extends AccountSecurity {
  contact: ContactService;
  flows: AccountFlows;
  suspicious: SuspiciousLogins;
}

declare module 'fastify' {
  interface FastifyInstance {
    accounts: AccountsDecoration;
  }
}

/** How long a login attempt's reservation lasts if the request never settles it. */
const ATTEMPT_LEASE_MS = 30_000;

export const accountsPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, db, kv, clock } = app.deps;
    const security = new AccountSecurity(
      app,
      new OneTimeTokens(db, clock),
      new Lockout(kv, clock, {
        threshold: config.LOCKOUT_THRESHOLD,
        durationsMs: config.LOCKOUT_DURATIONS.map((s) => s * 1000),
        resetAfterMs: config.LOCKOUT_RESET_AFTER * 1000,
        attemptLeaseMs: ATTEMPT_LEASE_MS,
      }),
      new PasswordHistory(db, clock, config.PASSWORD_HISTORY),
    );
    const background = security.background;
    const decoration = Object.assign(security, {
      contact: new ContactService({
        db,
        kv,
        clock,
        mail: app.mail,
        maxPerDay: config.CONTACT_MAX_PER_DAY,
        recipient: () => app.settings.contactRecipient(),
      }),
      flows: new AccountFlows(app, security, background),
      suspicious: new SuspiciousLogins(app, security, config.SUSPICIOUS_LOGIN_DENY_NETWORKS),
    });
    app.decorate('accounts', decoration);

    // The per-account login limit (shield policy `login-account`) counts the owner's trusted
    // device on its own, like the lockout: spending the account's budget does not lock its owner
    // out of a trusted device, and a stolen device still has only its own budget.
    app.shield.scopeBodyKey('email', async (request) => {
      const raw = (request.body as { email?: unknown } | null | undefined)?.email;
      const email = typeof raw === 'string' ? canonicalEmail(raw) : null;
      if (email === null) return null;
      const device = await security.trustedDeviceFor(email, request);
      return device ? `device:${device}` : null;
    });

    // A reset, an admin reset or disabling the account ends every one-time link it has.
    app.tokens.onUserRevoked(async (userId, reason) => {
      if (ENDS_ONE_TIME_LINKS[reason]) await security.tokens.endAll(userId);
    });

    // Its place among the gates is declared in src/auth/gates.ts. (The forced password change is
    // no gate: `completeLogin` decides it for every way of signing in.)
    app.auth.gates.add('suspicious-login', decoration.suspicious.gate());
    app.auth.onLoginCompleted((ctx) => decoration.suspicious.completed(ctx));

    scheduleHousekeeping(app);
    app.addHook('onClose', async () => background.flush());
    await app.register(accountRoutes);
  },
  {
    name: 'accounts',
    dependencies: ['deps', 'users', 'mail', 'audit', 'auth', 'tokens', 'authenticate', 'shield', 'settings'],
  },
);
