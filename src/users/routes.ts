import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../http/request-identity.js';
import { IdParams, PageQuery, pageOf, Problem } from '../http/common-schemas.js';
import { cursorAfter, keysetPage } from '../http/cursor.js';
import { AppError } from '../http/errors.js';
import { requirePermission } from './policy.js';
import { AdminUser, CreateUserBody, UpdateUserBody } from './schema.js';
import { toPublicUser } from './service.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

/** Admin user management; every route needs the user:manage permission. */
export const adminUserRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate);
  app.addHook('preHandler', async (request) => requirePermission(actorOf(request), 'user:manage'));
  // Changing accounts is sensitive: it needs a recent sign-in (step-up, REAUTH_MAX_AGE).
  app.addHook('preHandler', async (request) => {
    if (request.method !== 'GET') await app.requireRecentAuth(request);
  });

  app.get(
    '/api/admin/users',
    {
      schema: {
        tags: ['admin'],
        security: [{ bearerAuth: [] }],
        querystring: PageQuery,
        response: { 200: pageOf(AdminUser), ...errors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 20;
      const [after] = cursorAfter(request.query.cursor, ['uuid']) ?? [];
      const page = keysetPage(await app.users.repo.list({ limit: limit + 1, after }), limit, (row) => [row.id]);
      return { items: page.items.map(toPublicUser), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/admin/users',
    {
      schema: {
        tags: ['admin'],
        security: [{ bearerAuth: [] }],
        body: CreateUserBody,
        response: { 201: AdminUser, ...errors },
      },
    },
    // The admin chose (and knows) the password: the user must replace it at first sign-in
    // (docs/ACCOUNT_SECURITY.md), unless the admin explicitly says otherwise.
    async (request, reply) =>
      reply
        .status(201)
        .send(
          toPublicUser(
            await app.users.create({ ...request.body, mustChangePassword: request.body.mustChangePassword ?? true }),
          ),
        ),
  );

  app.get(
    '/api/admin/users/:id',
    {
      schema: {
        tags: ['admin'],
        security: [{ bearerAuth: [] }],
        params: IdParams,
        response: { 200: AdminUser, ...errors },
      },
    },
    async (request) => toPublicUser(await app.users.get(request.params.id)),
  );

  app.patch(
    '/api/admin/users/:id',
    {
      schema: {
        tags: ['admin'],
        security: [{ bearerAuth: [] }],
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: AdminUser, ...errors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      // An admin cannot disable or demote themselves: the last admin would lock everyone out.
      if (
        request.params.id === actor.userId &&
        (request.body.disabled === true || (request.body.role && request.body.role !== 'admin'))
      ) {
        throw new AppError(
          409,
          'CANNOT_CHANGE_OWN_ACCESS',
          'Conflict',
          'You cannot disable or demote your own account',
        );
      }
      return toPublicUser(await app.users.update(request.params.id, request.body));
    },
  );
};
