import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams, PageQuery, pageOf, Problem } from '../../http/common-schemas.js';
import { cursorAfter, keysetPage } from '../../http/cursor.js';
import { actorOf } from '../../http/request-identity.js';
import { requirePermission } from '../../users/policy.js';
import { primaryRole } from '../../users/service.js';
import { AcceptedUser, AcceptInvitationBody, CreateInvitationBody, Invitation } from './schema.js';
import { toPublicInvitation, type Inviter } from './service.js';

const adminErrors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

/** The admin side: invite, list, withdraw. Every route needs user:manage; changes need a recent sign-in. */
export const invitationAdminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate);
  app.addHook('preHandler', async (request) => requirePermission(actorOf(request), 'user:manage'));
  app.addHook('preHandler', async (request) => {
    if (request.method !== 'GET') await app.requireRecentAuth(request);
  });
  const inviter = (request: Parameters<typeof actorOf>[0]): Inviter => {
    const actor = actorOf(request);
    return { userId: actor.userId, permissions: actor.permissions };
  };

  app.post(
    '/api/admin/invitations',
    {
      schema: {
        tags: ['admin'],
        summary: 'Invite an email into roles',
        description:
          'Mails a single-use link PUBLIC_URL/accept-invite?token= (valid INVITATION_TTL seconds) and withdraws any open invitation of the same email. 400 UNKNOWN_ROLE; 403 ROLE_ESCALATION for a role with permissions the admin does not hold; 409 EMAIL_TAKEN when the email has an account. The token is never in the answer.',
        security: [{ bearerAuth: [] }],
        body: CreateInvitationBody,
        response: { 201: Invitation, ...adminErrors },
      },
    },
    async (request, reply) => {
      const { invitation } = await app.invitations.create(request.body, inviter(request), app.audit.contextOf(request));
      return reply.status(201).send(toPublicInvitation(invitation, app.deps.clock.now()));
    },
  );

  app.get(
    '/api/admin/invitations',
    {
      schema: {
        tags: ['admin'],
        summary: 'List invitations, newest first',
        description:
          '`state` is pending, accepted, revoked or expired; `accountExists` tells whether the email has an account now.',
        security: [{ bearerAuth: [] }],
        querystring: PageQuery,
        response: { 200: pageOf(Invitation), ...adminErrors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 20;
      const [before] = cursorAfter(request.query.cursor, ['uuid']) ?? [];
      const page = keysetPage(await app.invitations.list({ limit: limit + 1, before }), limit, (row) => [row.id]);
      const now = app.deps.clock.now();
      return { items: page.items.map((row) => toPublicInvitation(row, now)), nextCursor: page.nextCursor };
    },
  );

  app.delete(
    '/api/admin/invitations/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Withdraw an invitation',
        description:
          'Its link stops working at once (410 INVITATION_REVOKED). 404 INVITATION_NOT_FOUND; 409 INVITATION_ACCEPTED once used.',
        security: [{ bearerAuth: [] }],
        params: IdParams,
        response: { 204: Type.Null({ description: 'Withdrawn' }), ...adminErrors },
      },
    },
    async (request, reply) => {
      await app.invitations.revoke(request.params.id, inviter(request), app.audit.contextOf(request));
      return reply.status(204).send(null);
    },
  );
};

/** The invitee's side: accept with the mailed token. Works under every REGISTRATION policy. */
export const invitationAcceptRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/auth/invitations/accept',
    {
      schema: {
        tags: ['auth'],
        summary: 'Accept an invitation: create the account',
        description:
          'Creates the account with the invited email and roles, its email verified; the password policy of registration applies (400 WEAK_PASSWORD does not use up the link). 400 INVITATION_INVALID (unknown or malformed token); 410 INVITATION_USED (replay), INVITATION_EXPIRED, INVITATION_REVOKED. Rate-limited by the shield policy `invitation-accept`.',
        body: AcceptInvitationBody,
        response: { 201: AcceptedUser, 400: Problem, 410: Problem, 415: Problem, 429: Problem },
      },
    },
    async (request, reply) => {
      const user = await app.invitations.accept(request.body, app.audit.contextOf(request));
      return reply.status(201).send({
        user: {
          id: user.id,
          email: user.email,
          name: user.name,
          role: primaryRole(user.roles),
          roles: user.roles,
          emailVerified: true,
        },
      });
    },
  );
};
