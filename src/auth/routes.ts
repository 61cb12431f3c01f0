import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Problem } from '../http/common-schemas.js';
import { AppError, httpErrors } from '../http/errors.js';
import { Accepted } from '../security/accounts/schema.js';
import { emailVerificationMode } from '../security/accounts/service.js';
import { auditedPasswordCheck, auditedRefresh } from '../security/audit/auth-events.js';
import { clientFactsOf, COOKIE_REFRESH } from '../security/tokens/plugin.js';
import { canonicalEmail } from '../users/email.js';
import type { UserRow } from '../users/repository.js';
import { bodyOf, LoginFailedError } from './service.js';
import { primaryRole, toPublicUser } from '../users/service.js';
import { actorOf } from './plugin.js';
import {
  LoginBody,
  LoginResponse,
  MeResponse,
  RefreshBody,
  RegisterBody,
  TokenPairResponse,
  UserSummary,
} from './schema.js';

const errors = { 400: Problem, 401: Problem, 409: Problem, 415: Problem, 429: Problem };

/** EMAIL_VERIFICATION=required: one answer for a new and a taken email. */
const REGISTER_ACCEPTED = {
  status: 'accepted' as const,
  detail: 'Check your inbox: follow the link we sent to finish creating your account.',
};

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/auth/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account',
        description:
          'EMAIL_VERIFICATION=optional: 201 with the account, and a verification mail. required: 202 with the same body whether or not the email is taken; the account can sign in once its email is verified.',
        body: RegisterBody,
        response: { 201: Type.Object({ user: UserSummary }), 202: Accepted, ...errors },
      },
    },
    async (request, reply) => {
      if (emailVerificationMode(app.deps.config) === 'required') {
        await app.accounts.flows.registerQuietly(request.body, request);
        return reply.status(202).send(REGISTER_ACCEPTED);
      }
      // The account, its audit event and its verification mail commit together.
      const user = await app.accounts.flows.register(request.body, request);
      const { id, email, name, role } = toPublicUser(user);
      return reply.status(201).send({ user: { id, email, name, role } });
    },
  );

  app.post(
    '/api/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with email and password',
        description:
          'Answers a token pair, or `{mfaRequired, mfaToken, methods}` when a second factor is needed. 429 ACCOUNT_LOCKED (with Retry-After) after repeated failures for the email, known or not; 503 LOGIN_UNAVAILABLE when the lockout store is unreachable (docs/ACCOUNT_SECURITY.md).',
        body: LoginBody,
        response: { 200: LoginResponse, ...errors, 503: Problem },
      },
    },
    async (request) => {
      const { password } = request.body;
      // One identifier per account (src/users/email.ts): the lookup, the lockout and the
      // per-account limit all see this string. A spelling registration would refuse is refused
      // here, before any counter, lookup or hash: it cannot buy a fresh counter for an account.
      const email = canonicalEmail(request.body.email);
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
        const gate = await app.auth.runGates(user, request);
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
        });
        settled = true;
        await accounts.onLoginSuccess(email, attempt).catch((err: unknown) => {
          request.log.warn({ err }, 'lockout reset after a sign-in failed');
        });
        return body;
      } finally {
        if (!settled) await accounts.onLoginAbandoned(email, attempt).catch(() => undefined);
      }
    },
  );

  app.post(
    '/api/auth/refresh',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new token pair',
        description:
          'Each refresh token works once. A repeated use within REFRESH_REUSE_GRACE seconds by the same client returns the same new pair; any other reuse ends the session.',
        body: RefreshBody,
        response: { 200: TokenPairResponse, ...errors, 403: Problem },
      },
      // Browser mode posts no body at all (the token is a cookie): validate that as {}.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request) => {
      let token = request.body.refreshToken;
      if (token === undefined && app.deps.config.AUTH_COOKIES) {
        token = request.cookies[COOKIE_REFRESH];
        if (token !== undefined) app.assertCsrf(request);
      }
      if (token === undefined) {
        throw new AppError(
          400,
          'VALIDATION_FAILED',
          'Bad request',
          'Send the refresh token as {"refreshToken": "..."}',
        );
      }
      const refreshToken = token;
      const outcome = await auditedRefresh(app, request, () =>
        app.tokens.refresh(refreshToken, clientFactsOf(request)),
      );
      request.issuedPair = outcome.pair;
      return bodyOf(outcome.pair);
    },
  );

  app.get(
    '/api/auth/me',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'The authenticated user',
        security: [{ bearerAuth: [] }],
        response: { 200: MeResponse, 401: Problem },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const user = await app.users.get(actor.userId);
      return {
        user: {
          id: user.id,
          email: user.email,
          name: user.name,
          role: primaryRole(user.roles),
          roles: user.roles,
          permissions: [...actor.permissions].sort(),
          mustChangePassword: user.mustChangePassword,
          createdAt: user.createdAt.toISOString(),
        },
      };
    },
  );
};
