/**
 * The role admin (docs/ROLES.md): the permission catalogue, and roles created, changed and
 * deleted. Registered inside adminUserRoutes, so its hooks apply: authentication, the
 * user:manage permission, and a recent sign-in (step-up) for every change.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Problem } from '../http/common-schemas.js';
import { actorOf } from '../http/request-identity.js';
import { AUDIT_ACTIONS } from '../security/audit/actions.js';
import type { RoleChange } from './roles.js';
import {
  CreateRoleBody,
  DeleteRoleQuery,
  PermissionList200,
  RoleJson,
  RoleList200,
  RoleParams,
  UpdateRoleBody,
} from './schema.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };
const common = { tags: ['admin'], security: [{ bearerAuth: [] }] };

const ACTIONS: Record<RoleChange['kind'], string> = {
  created: AUDIT_ACTIONS.roleCreated,
  updated: AUDIT_ACTIONS.roleUpdated,
  deleted: AUDIT_ACTIONS.roleDeleted,
};

export const adminRoleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const roles = app.users.roles;

  /** The audit event of a role change, written in the change's own transaction. */
  const recorder =
    (request: Parameters<typeof actorOf>[0]) =>
    async (change: RoleChange, tx: Parameters<typeof app.audit.record>[1]): Promise<void> => {
      const name = change.kind === 'updated' ? change.after.name : change.role.name;
      const metadata =
        change.kind === 'created'
          ? { permissions: change.role.permissions, languages: change.role.languages }
          : change.kind === 'updated'
            ? {
                before: { permissions: change.before.permissions, languages: change.before.languages },
                after: { permissions: change.after.permissions, languages: change.after.languages },
                affectedUsers: change.affectedUsers,
              }
            : { reassignTo: change.reassignTo, affectedUsers: change.affectedUsers };
      await app.audit.record(
        {
          action: ACTIONS[change.kind],
          actor: actorOf(request).userId,
          outcome: 'success',
          target: { type: 'role', id: name },
          metadata,
          ...app.audit.contextOf(request),
        },
        tx,
      );
    };

  app.get(
    '/api/admin/permissions',
    {
      schema: {
        ...common,
        summary: 'The permission catalogue',
        description: 'Every permission a role may hold, with what it allows.',
        response: { 200: PermissionList200, ...errors },
      },
    },
    async () => ({ items: await roles.catalogue() }),
  );

  app.get(
    '/api/admin/roles',
    {
      schema: {
        ...common,
        summary: 'List roles',
        description: 'Built-in roles first, then by name; each with its permissions, languages and holder count.',
        response: { 200: RoleList200, ...errors },
      },
    },
    async () => ({ items: await roles.list() }),
  );

  app.post(
    '/api/admin/roles',
    {
      schema: {
        ...common,
        summary: 'Create a role',
        description:
          'Needs a recent sign-in. 400 UNKNOWN_PERMISSION, LANGUAGES_CONTENT_ONLY (a role limited to languages holds only content permissions), LANGUAGE_NOT_ENABLED (each of `languages` must be an enabled site language); 403 ROLE_ESCALATION (a permission you do not hold); 409 ROLE_EXISTS, ROLE_LIMIT_REACHED.',
        body: CreateRoleBody,
        response: { 201: RoleJson, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await roles.create(actorOf(request), request.body, recorder(request))),
  );

  app.get(
    '/api/admin/roles/:name',
    {
      schema: { ...common, summary: 'One role', params: RoleParams, response: { 200: RoleJson, ...errors } },
    },
    async (request) => roles.get(request.params.name),
  );

  app.patch(
    '/api/admin/roles/:name',
    {
      schema: {
        ...common,
        summary: 'Change a role',
        description:
          'Needs a recent sign-in. `permissions` replaces the list; `languages: null` lifts a language limit, and languages named must be enabled site languages (400 LANGUAGE_NOT_ENABLED). Every holder’s existing tokens carry the new permissions at once, on every node. 403 ROLE_ESCALATION (you must hold every permission of the role, before and after); 409 BUILT_IN_ROLE (a built-in role keeps its defining permissions), LAST_USER_MANAGER.',
        params: RoleParams,
        body: UpdateRoleBody,
        response: { 200: RoleJson, ...errors },
      },
    },
    async (request) => roles.update(actorOf(request), request.params.name, request.body, recorder(request)),
  );

  app.delete(
    '/api/admin/roles/:name',
    {
      schema: {
        ...common,
        summary: 'Delete a role',
        description:
          'Needs a recent sign-in. A role that accounts hold needs ?reassignTo=<role>: they get that role instead, in the same transaction. 400 UNKNOWN_ROLE, INVALID_REASSIGNMENT; 409 BUILT_IN_ROLE, ROLE_IN_USE, LAST_USER_MANAGER.',
        params: RoleParams,
        querystring: DeleteRoleQuery,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errors },
      },
    },
    async (request, reply) => {
      await roles.delete(actorOf(request), request.params.name, request.query.reassignTo, recorder(request));
      return reply.status(204).send(null);
    },
  );
};
