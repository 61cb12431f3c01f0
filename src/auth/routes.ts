import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Problem } from '../http/common-schemas.js';
import { auditedLogin, auditedRefresh, recordRegister } from '../security/audit/auth-events.js';
import { primaryRole, toPublicUser } from '../users/service.js';
import { actorOf } from './plugin.js';
import { LoginBody, MeResponse, RefreshBody, RegisterBody, TokenPairResponse, UserSummary } from './schema.js';

const errors = { 400: Problem, 401: Problem, 409: Problem, 415: Problem, 429: Problem };

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/auth/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account',
        body: RegisterBody,
        response: { 201: Type.Object({ user: UserSummary }), ...errors },
      },
    },
    async (request, reply) => {
      // The account and its audit event commit together.
      const user = await app.auth.register(request.body, (created, tx) => recordRegister(app, request, created.id, tx));
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
        body: LoginBody,
        response: { 200: TokenPairResponse, ...errors },
      },
    },
    async (request) => auditedLogin(app, request, () => app.auth.login(request.body.email, request.body.password)),
  );

  app.post(
    '/api/auth/refresh',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new token pair',
        body: RefreshBody,
        response: { 200: TokenPairResponse, ...errors },
      },
    },
    async (request) => auditedRefresh(app, request, () => app.auth.refresh(request.body.refreshToken)),
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
