import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Problem } from '../http/common-schemas.js';
import { AppError } from '../http/errors.js';
import { Accepted } from '../security/accounts/schema.js';
import { emailVerificationMode } from '../security/accounts/service.js';
import { auditedRefresh } from './events.js';
import { actorOf, clientFactsOf } from '../http/request-identity.js';
import { COOKIE_REFRESH } from '../security/tokens/cookies.js';
import { signIn } from './login.js';
import { registrationClosed, registrationMode } from './registration.js';
import { bodyOf } from './service.js';
import { primaryRole, toPublicUser } from '../users/service.js';
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
          'REGISTRATION=invite or closed (invite is the production default): 403 REGISTRATION_CLOSED, before the body is read; accounts then come from invitations (POST /api/auth/invitations/accept). EMAIL_VERIFICATION=optional: 201 with the account, and a verification mail. required: 202 with the same body whether or not the email is taken; the account can sign in once its email is verified.',
        body: RegisterBody,
        response: { 201: Type.Object({ user: UserSummary }), 202: Accepted, ...errors, 403: Problem },
      },
      // The policy is decided before anything else of the request (body, password hash, lookups).
      onRequest: async () => {
        const mode = registrationMode(app.deps.config);
        if (mode !== 'open') throw registrationClosed(mode);
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
    async (request) => signIn(app, request, request.body),
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
      if (token === undefined) {
        // Browser mode (whichever way it was turned on: the cookie exists only if we set it).
        token = request.cookies[COOKIE_REFRESH];
        if (token !== undefined) {
          app.assertCsrf(request);
          request.browserMode = true;
        }
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
        summary: 'The authenticated user (who the console is signed in as)',
        description:
          'Profile, roles and permissions, and email verification status. A token restricted to a password change or MFA enrollment gets 403 PASSWORD_CHANGE_REQUIRED / MFA_ENROLLMENT_REQUIRED: the state the sign-in is in.',
        security: [{ bearerAuth: [] }],
        response: { 200: MeResponse, 401: Problem },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const [user, verification] = await Promise.all([
        app.users.get(actor.userId),
        app.users.repo.emailVerification(actor.userId),
      ]);
      const verifiedAt = verification?.verifiedAt ?? null;
      return {
        user: {
          id: user.id,
          email: user.email,
          name: user.name,
          role: primaryRole(user.roles),
          roles: user.roles,
          permissions: [...actor.permissions].sort(),
          mustChangePassword: user.mustChangePassword,
          emailVerified: verifiedAt !== null,
          emailVerifiedAt: verifiedAt === null ? null : new Date(verifiedAt).toISOString(),
          createdAt: user.createdAt.toISOString(),
        },
      };
    },
  );
};
