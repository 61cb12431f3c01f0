/**
 * `POST /api/auth/login`, top to bottom: the steps are listed in ./gates.ts. Everything a
 * sign-in decides is called from here; the pieces it calls live in the modules named there.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { httpErrors } from '../http/errors.js';
import { canonicalEmail } from '../users/email.js';
import type { UserRow } from '../users/repository.js';
import { auditedPasswordCheck } from './events.js';
import { LoginFailedError, type LoginSuccessBody } from './service.js';

export async function signIn(
  app: FastifyInstance,
  request: FastifyRequest,
  input: { email: string; password: string },
): Promise<LoginSuccessBody | Record<string, unknown>> {
  const { password } = input;
  // One identifier per account (src/users/email.ts): the lookup, the lockout and the
  // per-account limit all see this string. A spelling registration would refuse is refused
  // here, before any counter, lookup or hash: it cannot buy a fresh counter for an account.
  const email = canonicalEmail(input.email);
  if (email === null) {
    throw httpErrors.validation('email must be a valid email address', [
      { path: '/email', message: 'must match format "email"' },
    ]);
  }
  const accounts = app.accounts;
  // Progressive lockout (docs/ACCOUNT_SECURITY.md): an attempt is reserved before any
  // credential is checked, and settled exactly once below. A trusted device of the owner
  // counts on its own, so an attacker locking the account does not lock the owner out.
  const attempt = { trustedDeviceId: await accounts.trustedDeviceFor(email, request) };
  await accounts.guardLogin(email, attempt);
  let settled = false;
  try {
    let user: UserRow;
    try {
      user = await auditedPasswordCheck(app, request, async () => {
        const found = await app.auth.checkPassword(email, password);
        // Not yet verified (EMAIL_VERIFICATION=required): answered like a wrong password, so
        // logging in after registering tells nobody whether the email was free.
        if (await accounts.flows.verificationPending(found.id)) {
          throw new LoginFailedError('email_unverified', found.id);
        }
        return found;
      });
    } catch (err) {
      if (err instanceof LoginFailedError && err.reason !== 'email_unverified') {
        settled = true;
        const userId = err.reason === 'wrong_password' ? err.userId : null;
        await accounts.onLoginFailure(email, {
          ...attempt,
          request,
          user: userId ? async () => (await app.users.repo.get(userId)) ?? null : null,
        });
      }
      throw err;
    }
    const gate = await app.auth.gates.run(user, request);
    if (gate.kind === 'respond') {
      // A second factor is asked for: the attempt is settled when it is checked (the MFA
      // module counts it on the same identifier); the password alone resets nothing.
      await accounts.suspicious.stashStreak(user.id, user.email);
      settled = true;
      await accounts.onLoginAbandoned(email, attempt);
      return gate.body;
    }
    const body = await app.auth.completeLogin(request, user.id, {
      amr: ['pwd', ...(gate.amr ?? [])],
      restriction: gate.restriction,
      extra: gate.extra,
      user,
    });
    settled = true;
    await accounts.onLoginSuccess(email, attempt).catch((err: unknown) => {
      request.log.warn({ err }, 'lockout reset after a sign-in failed');
    });
    return body;
  } finally {
    if (!settled) await accounts.onLoginAbandoned(email, attempt).catch(() => undefined);
  }
}
