/**
 * The admin routes of site-wide content (languages, site texts): signed in, `content:read_any`
 * to read and `content:write_any` to change, both checked before the body is validated, so a
 * caller without the permission learns nothing about the bodies. Call it first in the routes
 * plugin; it returns how a handler names the author of a change for the audit log.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../security/audit/event.js';
import { actorOf } from '../../http/request-identity.js';
import { requirePermission } from '../../users/policy.js';

export interface SiteAdminAuthor {
  actorId: string;
  context: RequestContext;
}

export function guardSiteAdmin(app: FastifyInstance): (request: FastifyRequest) => SiteAdminAuthor {
  app.addHook('onRequest', app.authenticate);
  app.addHook('onRequest', async (request) =>
    requirePermission(actorOf(request), request.method === 'GET' ? 'content:read_any' : 'content:write_any'),
  );
  return (request) => ({ actorId: actorOf(request).userId, context: app.audit.contextOf(request) });
}
