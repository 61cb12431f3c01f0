import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../http/request-identity.js';
import { Problem } from '../../http/common-schemas.js';
import { parseClientKey } from '../../http/client-ip.js';
import { AppError } from '../../http/errors.js';
import { requirePermission } from '../../users/policy.js';
import { retryAfterSeconds } from './errors.js';

const Block = Type.Object({
  client: Type.String({ description: 'IPv4 address or IPv6 /64 (the client key)' }),
  until: Type.String({ format: 'date-time' }),
  retryAfter: Type.Integer({ description: 'Seconds until the block ends' }),
  level: Type.Integer({ description: 'How many times this client was blocked recently; each doubles the length' }),
  reason: Type.String(),
});

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

/**
 * Admin view of automatic blocks. Needs security:manage (admins). Lifting a block also clears
 * the client's violation count and block level, and reaches every node's cache at once.
 */
export const shieldRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate);
  app.addHook('preHandler', async (request) => requirePermission(actorOf(request), 'security:manage'));

  app.get(
    '/api/admin/security/blocks',
    {
      schema: {
        tags: ['admin'],
        summary: 'Clients blocked after repeated violations',
        security: [{ bearerAuth: [] }],
        response: { 200: Type.Object({ items: Type.Array(Block) }), ...errors },
      },
    },
    async () => {
      const now = app.deps.clock.now().getTime();
      const blocks = await app.shield.limiter.blocks.list();
      return {
        items: blocks.map((b) => ({
          client: b.client,
          until: new Date(b.until).toISOString(),
          retryAfter: retryAfterSeconds(b.until - now),
          level: b.level,
          reason: b.reason,
        })),
      };
    },
  );

  app.delete(
    '/api/admin/security/blocks/:client',
    {
      schema: {
        tags: ['admin'],
        summary: 'Lift a block',
        security: [{ bearerAuth: [] }],
        params: Type.Object({ client: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const client = parseClientKey(request.params.client);
      if (!client)
        throw new AppError(
          400,
          'INVALID_CLIENT',
          'Bad request',
          'Give an IPv4 address, an IPv6 address or an IPv6 /64',
        );
      const lifted = await app.shield.limiter.blocks.unblock(client);
      if (!lifted) throw new AppError(404, 'NOT_FOUND', 'Not found', `No block for ${client}`);
      request.log.info({ client, actor: actorOf(request).userId }, 'block lifted by an admin');
      return reply.status(204).send(null);
    },
  );
};
