/**
 * Export routes (docs/PRIVACY.md "Export"): the signed-in user's own export (step-up to ask for
 * it), its status with a fresh one-time link, the download; and an admin's export of another
 * account (user:manage, step-up), whose archive and link are the admin's alone.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams, Problem } from '../../../http/common-schemas.js';
import { actorOf } from '../../../http/request-identity.js';
import { requirePermission } from '../../../users/policy.js';
import { DownloadQuery, ExportAccepted, ExportStatusView } from './schema.js';

const security = [{ bearerAuth: [] }];
const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

export const exportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const exports = app.privacyExport;

  app.post(
    '/api/account/export',
    {
      onRequest: [app.authenticate, app.requireRecentAuth],
      schema: {
        tags: ['privacy'],
        summary: 'Ask for an export of all your data (a zip); a mail says when it is ready (needs a recent sign-in)',
        security,
        response: { 202: ExportAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const accepted = await exports.request(actor.userId, {
        userId: actor.userId,
        context: app.audit.contextOf(request),
      });
      return reply.status(202).header('cache-control', 'no-store').send(accepted);
    },
  );

  app.get(
    '/api/account/exports/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['privacy'],
        summary: 'The status of an export you asked for; when ready, a signed download link that works once',
        security,
        params: IdParams,
        response: { 200: ExportStatusView, ...errors },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return exports.view(request.params.id, actorOf(request).userId);
    },
  );

  app.get(
    '/api/account/exports/:id/download',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['privacy'],
        summary:
          'Download an export (the link from its status, for the account that asked for it; works once: 404/410 EXPORT_LINK_INVALID)',
        security,
        params: IdParams,
        querystring: DownloadQuery,
        produces: ['application/zip'],
        response: { 200: Type.Unsafe({ type: 'string', format: 'binary' }), ...errors, 410: Problem },
      },
    },
    async (request, reply) => {
      const { stream, size } = await exports.download(
        request.params.id,
        actorOf(request).userId,
        request.query,
        app.audit.contextOf(request),
      );
      void reply.headers({
        'content-type': 'application/zip',
        'content-disposition': `attachment; filename="export-${request.params.id}.zip"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        ...(size === null ? {} : { 'content-length': String(size) }),
      });
      return reply.send(stream);
    },
  );

  app.post(
    '/api/admin/users/:id/export',
    {
      onRequest: app.authenticate,
      preHandler: [async (request) => requirePermission(actorOf(request), 'user:manage'), app.requireRecentAuth],
      schema: {
        tags: ['admin', 'privacy'],
        summary:
          "Export an account's data for an access request: the archive and its one-time link are yours (GET /api/account/exports/:id) (user:manage, recent sign-in)",
        security,
        params: IdParams,
        response: { 202: ExportAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const subject = await app.users.get(request.params.id);
      const accepted = await exports.request(subject.id, {
        userId: actor.userId,
        context: app.audit.contextOf(request),
      });
      return reply.status(202).header('cache-control', 'no-store').send(accepted);
    },
  );
};
