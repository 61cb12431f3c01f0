import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ContactService } from './contact.js';
import { AccountFlows } from './flows.js';
import { scheduleHousekeeping } from './housekeeping.js';
import { Lockout } from './lockout.js';
import { OneTimeTokens } from './one-time-tokens.js';
import { PasswordHistory } from './password-history.js';
import { accountRoutes } from './routes.js';
import { AccountSecurity } from './service.js';
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
      contact: new ContactService({ db, kv, clock, mail: app.mail, maxPerDay: config.CONTACT_MAX_PER_DAY }),
      flows: new AccountFlows(app, security, background),
      suspicious: new SuspiciousLogins(app, security, config.SUSPICIOUS_LOGIN_DENY_NETWORKS),
    });
    app.decorate('accounts', decoration);

    // Gates run after MFA's (registered earlier). Forced password change: accounts created by an
    // admin (API or CLI) get a token that only allows POST /api/auth/password/change.
    app.auth.addLoginGate(async ({ user }) => {
      const row = await app.users.repo.get(user.id);
      return row?.mustChangePassword
        ? { kind: 'continue', restriction: 'password_change', extra: { passwordChangeRequired: true } }
        : { kind: 'continue' };
    });
    app.auth.addLoginGate(decoration.suspicious.gate());
    app.auth.onLoginCompleted((ctx) => decoration.suspicious.completed(ctx));

    scheduleHousekeeping(app);
    app.addHook('onClose', async () => background.flush());
    await app.register(accountRoutes);
  },
  { name: 'accounts', dependencies: ['deps', 'users', 'mail', 'audit', 'auth', 'tokens'] },
);
