/**
 * The backup status for the admin console's Security screen (permission `security:manage`):
 * the newest verified (drilled) backup and the recovery point against BACKUP_RPO_HOURS, the same
 * reading as `/health/ready`'s `checks.backup` (src/backup/status.ts, cached for a few minutes)
 * but for a signed-in admin rather than the operators' allow-list.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Problem } from '../http/common-schemas.js';
import { AppError } from '../http/errors.js';
import { actorOf } from '../http/request-identity.js';
import { requirePermission } from '../users/policy.js';
import { rpoStatus } from './status.js';

export const BackupStatus = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('stale'), Type.Literal('none')], {
    description:
      'ok: a verified backup within the RPO; stale: the newest verified one is older; none: no verified backup',
  }),
  newestVerifiedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  ageHours: Type.Union([Type.Number(), Type.Null()]),
  rpoHours: Type.Number(),
});

const errors = { 401: Problem, 403: Problem, 503: Problem };

export const backupRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate);
  app.addHook('preHandler', async (request) => requirePermission(actorOf(request), 'security:manage'));

  app.get(
    '/api/admin/backups/status',
    {
      schema: {
        tags: ['admin'],
        security: [{ bearerAuth: [] }],
        summary: 'The newest verified backup and the recovery point (RPO) state',
        description:
          'Read from the backup folder (and S3 when configured), cached for a few minutes. 503 BACKUP_STATUS_UNAVAILABLE when the backups cannot be listed (for example S3 unreachable).',
        response: { 200: BackupStatus, ...errors },
      },
    },
    async (request) => {
      try {
        return await rpoStatus(app.deps.config, app.deps.clock.now());
      } catch (err) {
        request.log.warn({ err }, 'backup status unavailable');
        throw new AppError(
          503,
          'BACKUP_STATUS_UNAVAILABLE',
          'Service unavailable',
          'The backups cannot be listed right now',
          {
            headers: { 'retry-after': '60' },
            cause: err,
          },
        );
      }
    },
  );
};
