/**
 * `GET /api/account/events`: the signed-in user's own recent security events, read from the audit
 * log (the "recent security events" of the account page). Any signed-in user, no permission: the
 * query is fixed to the caller's account (src/security/audit/repository.ts `accountEvents`), so no
 * parameter can name another user. Events written by someone else about this account (an admin's
 * change) show who in general terms only: their address and user agent are not the owner's to see.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Problem } from '../../http/common-schemas.js';
import { cursorAfter } from '../../http/cursor.js';
import { actorOf } from '../../http/request-identity.js';
import type { ChainedEvent } from './canonical.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const AccountEventsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);

const By = Type.Union(
  [Type.Literal('self'), Type.Literal('anonymous'), Type.Literal('system'), Type.Literal('administrator')],
  {
    description:
      'self: you (a session of yours); anonymous: someone not signed in (e.g. a failed sign-in with your email); system: the server; administrator: another account acting on yours',
  },
);

export const AccountEvent = Type.Object({
  id: Type.Integer({ description: 'the event sequence number in the audit log' }),
  time: Type.String({ format: 'date-time' }),
  action: Type.String({ description: 'e.g. auth.login.succeeded, auth.login.failed, mfa.totp.enrolled' }),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
  by: By,
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
});

export const AccountEventsPage = Type.Object({
  items: Type.Array(AccountEvent),
  nextCursor: Nullable(Type.String()),
});

function byOf(e: ChainedEvent, userId: string): 'self' | 'anonymous' | 'system' | 'administrator' {
  if (e.actor === userId.toLowerCase()) return 'self';
  if (e.actor === 'anonymous') return 'anonymous';
  if (e.actor === 'system') return 'system';
  return 'administrator';
}

function viewOf(e: ChainedEvent, userId: string) {
  const by = byOf(e, userId);
  // Another account's (an admin's) address and browser are that account's, not the owner's.
  const showClient = by !== 'administrator';
  return {
    id: e.seq,
    time: e.time,
    action: e.action,
    outcome: e.outcome,
    by,
    ip: showClient ? e.ip : null,
    userAgent: showClient ? e.userAgent : null,
    metadata: e.metadata,
  };
}

/** One event as its account's owner sees it (the account page, and data exports: docs/PRIVACY.md). */
export const accountEventView = viewOf;

export const accountEventsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/account/events',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: "The caller's recent security events (own account only, newest first)",
        description:
          'Sign-ins (and failed attempts with your email), lockouts, password and email changes, sessions and tokens, second factors, and changes an administrator made to your account, from the audit log. `limit` (1-100, default 20) and `cursor` page through them.',
        security: [{ bearerAuth: [] }],
        querystring: AccountEventsQuery,
        response: { 200: AccountEventsPage, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const userId = actorOf(request).userId;
      const [before] = cursorAfter(request.query.cursor, ['number']) ?? [];
      const page = await app.audit.accountEvents(userId, request.query.limit ?? 20, before);
      return { items: page.items.map((e) => viewOf(e, userId)), nextCursor: page.nextCursor };
    },
  );
};
