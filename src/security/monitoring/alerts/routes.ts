/**
 * Operator alerts: `GET /api/admin/alerts` (newest first, `state` and `severity` filters, keyset
 * pages), `GET /api/admin/alerts/:id` (the alert a mailed link opens) and
 * `POST /api/admin/alerts/:id/ack`. Permission `security:manage`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams, pageOf, Problem } from '../../../http/common-schemas.js';
import { cursorAfter, keysetPage } from '../../../http/cursor.js';
import { actorOf } from '../../../http/request-identity.js';
import { requirePermission } from '../../../users/policy.js';
import { AUDIT_ACTIONS } from '../../audit/actions.js';
import { alertErrors } from './errors.js';
import type { AlertRow } from './repository.js';
import { Alert, AlertListQuery } from './schema.js';
import type { AlertsService } from './service.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

export function toPublicAlert(row: AlertRow, alerts: Pick<AlertsService, 'link'>): Alert {
  return {
    id: row.id,
    rule: row.rule,
    severity: row.severity,
    summary: row.summary,
    count: row.count,
    firstSeen: row.firstSeen.toISOString(),
    lastSeen: row.lastSeen.toISOString(),
    windowEnds: row.windowEnds.toISOString(),
    firstSeq: row.firstSeq,
    lastSeq: row.lastSeq,
    state: row.state,
    ackedAt: row.ackedAt?.toISOString() ?? null,
    ackedBy: row.ackedBy,
    link: alerts.link(row.id),
  };
}

export const alertRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate);
  app.addHook('preHandler', async (request) => requirePermission(actorOf(request), 'security:manage'));

  app.get(
    '/api/admin/alerts',
    {
      schema: {
        tags: ['admin'],
        summary: 'Operator alerts raised by the detection rules, newest first',
        description:
          'Filter by `state` (open, acknowledged) and `severity` (info, warning, critical). docs/MONITORING.md.',
        security: [{ bearerAuth: [] }],
        querystring: AlertListQuery,
        response: { 200: pageOf(Alert), ...errors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 20;
      const [before] = cursorAfter(request.query.cursor, ['uuid']) ?? [];
      const rows = await app.alerts.list({
        state: request.query.state,
        severity: request.query.severity,
        before,
        limit: limit + 1,
      });
      const page = keysetPage(rows, limit, (row) => [row.id]);
      return { items: page.items.map((row) => toPublicAlert(row, app.alerts)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/admin/alerts/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'One operator alert (the page its mailed link opens)',
        description: 'The alert the mail and the webhook link to (PUBLIC_URL/admin/alerts/<id>). 404 ALERT_NOT_FOUND.',
        security: [{ bearerAuth: [] }],
        params: IdParams,
        response: { 200: Alert, ...errors },
      },
    },
    async (request) => {
      const row = await app.alerts.repo.get(request.params.id);
      if (!row) throw alertErrors.notFound();
      return toPublicAlert(row, app.alerts);
    },
  );

  app.post(
    '/api/admin/alerts/:id/ack',
    {
      schema: {
        tags: ['admin'],
        summary: 'Acknowledge an alert',
        description: 'Idempotent: an acknowledged alert keeps its first acknowledgement. 404 ALERT_NOT_FOUND.',
        security: [{ bearerAuth: [] }],
        params: IdParams,
        response: { 200: Alert, ...errors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const row = await app.deps.db.transaction(async (tx) => {
        const acked = await app.alerts.repo.ack(request.params.id, actor.userId, app.deps.clock.now(), tx);
        if (!acked) throw alertErrors.notFound();
        await app.audit.record(
          {
            action: AUDIT_ACTIONS.alertAcknowledged,
            actor: actor.userId,
            outcome: 'success',
            target: { type: 'alert', id: acked.id },
            metadata: { rule: acked.rule, severity: acked.severity },
            ...app.audit.contextOf(request),
          },
          tx,
        );
        return acked;
      });
      return toPublicAlert(row, app.alerts);
    },
  );
};
