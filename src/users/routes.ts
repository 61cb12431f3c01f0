import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../http/request-identity.js';
import { IdParams, PageQuery, pageOf, Problem } from '../http/common-schemas.js';
import { cursorAfter, keysetPage } from '../http/cursor.js';
import { AppError, httpErrors } from '../http/errors.js';
import { AUDIT_ACTIONS } from '../security/audit/actions.js';
import { requirePermission, validateRoleNames } from './policy.js';
import { adminRoleRoutes } from './roles-routes.js';
import { AdminUser, CreateUserBody, UpdateUserBody } from './schema.js';
import { toPublicUser } from './service.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

/** Admin user and role management; every route needs the user:manage permission. */
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
      return { items: await app.users.withSecondFactors(page.items), nextCursor: page.nextCursor };
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
    async (request, reply) => {
      const { role, roles, ...rest } = request.body;
      if (role !== undefined && roles !== undefined) throw httpErrors.validation('Send either role or roles');
      const granted = roles ?? (role !== undefined ? [role] : ['user']);
      // No escalation: only roles whose every permission the admin holds.
      await validateRoleNames(granted, app.deps.db, actorOf(request));
      const user = await app.users.create({
        ...rest,
        roles: granted,
        mustChangePassword: request.body.mustChangePassword ?? true,
      });
      return reply.status(201).send(toPublicUser(user));
    },
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
    async (request) => (await app.users.withSecondFactors([await app.users.get(request.params.id)]))[0],
  );

  app.patch(
    '/api/admin/users/:id',
    {
      schema: {
        tags: ['admin'],
        security: [{ bearerAuth: [] }],
        params: IdParams,
        body: UpdateUserBody,
        description:
          'Needs a recent sign-in. `roles` replaces every role of the account; its existing tokens carry the new permissions at once, on every node. 400 UNKNOWN_ROLE, DUPLICATE_ROLE; 403 ROLE_ESCALATION (a role granted or taken away has a permission you do not hold); 409 CANNOT_CHANGE_OWN_ACCESS, LAST_USER_MANAGER.',
        response: { 200: AdminUser, ...errors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const { body } = request;
      if (body.role !== undefined && body.roles !== undefined) throw httpErrors.validation('Send either role or roles');
      // An admin cannot disable or demote themselves: the last admin would lock everyone out.
      // (Whoever changes them, the last enabled holder of user:manage keeps it: LAST_USER_MANAGER.)
      const self = request.params.id === actor.userId;
      const dropsOwnRole = body.roles !== undefined && actor.roles.some((r) => !body.roles?.includes(r));
      if (self && (body.disabled === true || (body.role && body.role !== 'admin') || dropsOwnRole)) {
        throw new AppError(
          409,
          'CANNOT_CHANGE_OWN_ACCESS',
          'Conflict',
          'You cannot disable or demote your own account',
        );
      }
      const user = await app.users.update(request.params.id, body, {
        actor,
        // Audited in the change's own transaction; the request hook logs the request as well.
        record: async (change, tx) =>
          app.audit.record(
            {
              action: AUDIT_ACTIONS.userAccessChanged,
              actor: actor.userId,
              outcome: 'success',
              target: { type: 'user', id: change.userId },
              metadata: {
                rolesBefore: change.rolesBefore,
                rolesAfter: change.rolesAfter,
                // The roles' permissions (as role.updated has them): read by the privileged-role-granted rule.
                before: { permissions: change.permissionsBefore },
                after: { permissions: change.permissionsAfter },
                ...(change.disabled !== undefined ? { disabled: change.disabled } : {}),
              },
              ...app.audit.contextOf(request),
            },
            tx,
          ),
      });
      return toPublicUser(user);
    },
  );

  await app.register(adminRoleRoutes);
};
