/**
 * Token security endpoints: JWKS, the caller's sessions, logout, logout everywhere, and the
 * admin's "revoke every token of this user".
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../http/request-identity.js';
import { Problem } from '../../http/common-schemas.js';
import { AppError, httpErrors } from '../../http/errors.js';
import { requirePermission } from '../../users/policy.js';
import { AUDIT_ACTIONS } from '../audit/actions.js';
import { recordEvent } from './events.js';

const Session = Type.Object({
  id: Type.String({ format: 'uuid' }),
  current: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  browser: Type.Union([Type.String(), Type.Null()]),
  os: Type.Union([Type.String(), Type.Null()]),
  device: Type.Union([Type.String(), Type.Null()]),
  amr: Type.Array(Type.String()),
  trustedDevice: Type.Boolean({
    description: 'Signed in from a device the owner trusted (the second factor was skipped)',
  }),
});

const Jwk = Type.Object(
  { kid: Type.String(), kty: Type.String(), alg: Type.String(), use: Type.String() },
  { additionalProperties: true },
);
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };
const iso = (d: Date) => new Date(d).toISOString();

export const tokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['auth'],
        summary: 'Public keys that verify the API tokens (RFC 7517)',
        response: { 200: Type.Object({ keys: Type.Array(Jwk) }) },
      },
    },
    async (_request, reply) => {
      // Short cache: a rotated-in key must reach verifiers long before its first token expires.
      void reply.header('cache-control', 'public, max-age=300');
      return app.tokens.ring.jwks() as { keys: { kid: string; kty: string; alg: string; use: string }[] };
    },
  );

  app.get(
    '/api/auth/sessions',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: "The caller's active sessions (the current one marked)",
        security: [{ bearerAuth: [] }],
        response: { 200: Type.Object({ sessions: Type.Array(Session) }), 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const rows = await app.tokens.sessions.list(actor.userId);
      return {
        sessions: rows.map((s) => ({
          id: s.id,
          current: s.id === actor.auth?.sessionId,
          createdAt: iso(s.createdAt),
          lastSeenAt: iso(s.lastSeenAt),
          expiresAt: iso(s.expiresAt),
          ip: s.ip,
          userAgent: s.userAgent,
          browser: s.browser,
          os: s.os,
          device: s.device,
          amr: s.amr,
          trustedDevice: s.amr.includes('device'),
        })),
      };
    },
  );

  app.delete(
    '/api/auth/sessions/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'End one of your sessions (its tokens stop working on every node)',
        security: [{ bearerAuth: [] }],
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      // Someone else's session id answers exactly like an unknown one.
      if (!(await app.tokens.sessions.revoke(actor.userId, request.params.id, 'user'))) {
        throw new AppError(404, 'SESSION_NOT_FOUND', 'Not found', 'No such active session');
      }
      await recordEvent(app, request, AUDIT_ACTIONS.sessionRevoked, actor.userId, 'success', {
        session: request.params.id,
        by: 'user',
      });
      if (request.params.id === actor.auth?.sessionId) app.setAuthCookies(reply, null);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/api/auth/sessions',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'End every session of the caller except the current one ("sign out other devices")',
        security: [{ bearerAuth: [] }],
        response: { 200: Type.Object({ ended: Type.Integer() }), 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const current = actor.auth?.sessionId;
      if (!current) throw httpErrors.unauthorized();
      const ended = await app.tokens.sessions.revokeOthers(actor.userId, current, 'user_others');
      await recordEvent(app, request, AUDIT_ACTIONS.sessionRevoked, actor.userId, 'success', {
        scope: 'others',
        ended,
      });
      return { ended };
    },
  );

  app.post(
    '/api/auth/logout',
    {
      onRequest: app.authenticate,
      // Signing out is never refused, even in the middle of a forced password change or MFA enrollment.
      config: { allowRestricted: ['password_change', 'mfa_enrollment'] },
      schema: {
        tags: ['auth'],
        summary: 'Log out: this access token and its session (refresh family) stop working',
        security: [{ bearerAuth: [] }],
        response: { 204: Type.Null(), 401: Problem, 403: Problem },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const auth = actor.auth;
      if (auth) {
        await app.tokens.logout({ jti: auth.jti, sid: auth.sessionId, sub: actor.userId, exp: auth.exp });
        await recordEvent(app, request, AUDIT_ACTIONS.tokenRevoked, actor.userId, 'success', {
          scope: 'session',
          reason: 'logout',
          session: auth.sessionId,
        });
      }
      app.setAuthCookies(reply, null);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/auth/logout-all',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'Log out everywhere: every token of the caller stops working on every node',
        security: [{ bearerAuth: [] }],
        response: { 204: Type.Null(), 401: Problem, 403: Problem },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      await app.tokens.revokeUser(actor.userId, 'logout_all');
      await recordEvent(app, request, AUDIT_ACTIONS.tokenRevoked, actor.userId, 'success', {
        scope: 'all',
        reason: 'logout_all',
      });
      app.setAuthCookies(reply, null);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/admin/users/:id/revoke-tokens',
    {
      onRequest: [app.authenticate, app.requireRecentAuth],
      schema: {
        tags: ['admin'],
        summary: 'Revoke every token and session of a user',
        security: [{ bearerAuth: [] }],
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      requirePermission(actor, 'user:manage');
      const user = await app.users.repo.get(request.params.id);
      if (!user) throw new AppError(404, 'USER_NOT_FOUND', 'Not found', 'User not found');
      await app.tokens.revokeUser(user.id, 'admin');
      await app.audit.record({
        action: AUDIT_ACTIONS.tokenRevoked,
        actor: actor.userId,
        outcome: 'success',
        target: { type: 'user', id: user.id },
        metadata: { scope: 'all', reason: 'admin' },
        ...app.audit.contextOf(request),
      });
      return reply.status(204).send(null);
    },
  );
};
