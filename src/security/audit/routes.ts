/**
 * The admin audit API (permission `audit:read`). Every call is itself audited by the automatic
 * hook: reads as `audit.read`, exports as `audit.export` with the filter and the row count.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../http/request-identity.js';
import { Problem } from '../../http/common-schemas.js';
import { cursorAfter } from '../../http/cursor.js';
import { requirePermission } from '../../users/policy.js';
import { AUDIT_ACTIONS } from './actions.js';
import type { ChainedEvent } from './canonical.js';
import { auditErrors } from './errors.js';
import type { EventFilter } from './repository.js';
import {
  AuditExportQuery,
  AuditListQuery,
  AuditPage,
  AuditReport,
  AuditStats,
  AuditStatus,
  RangeQuery,
  StatsQuery,
} from './schema.js';

const errors = { 400: Problem, 401: Problem, 403: Problem };
const tags = ['audit'];
const security = [{ bearerAuth: [] }];
const read = { audit: { read: AUDIT_ACTIONS.auditRead } };
const DAY = 86_400_000;

function view(e: ChainedEvent) {
  const { targetType, targetId, ...rest } = e;
  return { ...rest, target: targetType === null && targetId === null ? null : { type: targetType, id: targetId } };
}

/** Default end of a period: ranges are [from, to), so "until now" must include events stamped this very second. */
function untilNow(now: Date): Date {
  return new Date(now.getTime() + 1000);
}

function date(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw auditErrors.invalidRange(`${name} is not a date-time`);
  return d;
}

function filterOf(q: {
  actor?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  outcome?: EventFilter['outcome'];
  from?: string | undefined;
  to?: string | undefined;
  ip?: string | undefined;
}): EventFilter {
  return {
    actor: q.actor,
    action: q.action,
    targetType: q.targetType,
    targetId: q.targetId,
    outcome: q.outcome,
    from: date(q.from, 'from'),
    to: date(q.to, 'to'),
    ip: q.ip,
  };
}

/** One CSV cell: quoted, and defused against formula injection when opened in a spreadsheet (OWASP CSV injection). */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

const CSV_COLUMNS = [
  'seq',
  'time',
  'action',
  'actor',
  'outcome',
  'ip',
  'userAgent',
  'targetType',
  'targetId',
  'requestId',
  'metadata',
  'prevHash',
  'hash',
] as const;

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate);
  app.addHook('preHandler', async (request) => requirePermission(actorOf(request), 'audit:read'));

  app.get(
    '/api/admin/audit',
    {
      config: read,
      schema: {
        tags,
        security,
        summary: 'Search the audit log (newest first)',
        querystring: AuditListQuery,
        response: { 200: AuditPage, ...errors },
      },
    },
    async (request) => {
      const q = request.query;
      const [before] = cursorAfter(q.cursor, ['number']) ?? [];
      const page = await app.audit.list(filterOf(q), q.limit ?? 50, before);
      return { items: page.items.map(view), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/admin/audit/export',
    {
      config: { audit: { read: AUDIT_ACTIONS.auditExport } },
      // Exporting the whole log is sensitive: it needs a recent sign-in (step-up, REAUTH_MAX_AGE).
      preHandler: app.requireRecentAuth,
      schema: {
        tags,
        security,
        summary: 'Export matching events as JSON Lines or CSV (oldest first)',
        querystring: AuditExportQuery,
        response: {
          200: Type.Unsafe<Readable>({ type: 'string', description: 'JSON Lines (one event per line) or CSV' }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const format = q.format ?? 'jsonl';
      const filter = filterOf(q);
      const source = app.audit.matching(filter, q.limit ?? 100_000);
      const meta = { format, filter: { ...q, format: undefined, limit: undefined }, rows: 0 };
      request.auditMetadata = meta;
      async function* lines(): AsyncGenerator<string> {
        if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\n`;
        for await (const e of source) {
          meta.rows++;
          yield format === 'csv'
            ? `${CSV_COLUMNS.map((c) => csvCell(e[c])).join(',')}\n`
            : `${JSON.stringify(view(e))}\n`;
        }
      }
      const stamp = app.deps.clock.now().toISOString().replace(/[:.]/g, '-');
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${stamp}.${format}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(lines()));
    },
  );

  app.get(
    '/api/admin/audit/report',
    {
      config: read,
      schema: {
        tags,
        security,
        summary: 'Compliance summary of a period, with its integrity status',
        querystring: RangeQuery,
        response: { 200: AuditReport, ...errors },
      },
    },
    async (request) => {
      const to = date(request.query.to, 'to') ?? untilNow(app.deps.clock.now());
      const from = date(request.query.from, 'from') ?? new Date(to.getTime() - 30 * DAY);
      return app.audit.report(from, to);
    },
  );

  app.get(
    '/api/admin/audit/status',
    {
      config: read,
      schema: {
        tags,
        security,
        summary: 'Integrity of the whole chain and its last checkpoint',
        response: { 200: AuditStatus, ...errors },
      },
    },
    async () => app.audit.status(),
  );

  app.get(
    '/api/admin/audit/stats',
    {
      config: read,
      schema: {
        tags,
        security,
        summary: 'Failed logins, 429s and blocks per hour or day (dashboard charts)',
        querystring: StatsQuery,
        response: { 200: AuditStats, ...errors },
      },
    },
    async (request) => {
      const to = date(request.query.to, 'to') ?? untilNow(app.deps.clock.now());
      const bucket = request.query.bucket ?? 'hour';
      const from = date(request.query.from, 'from') ?? new Date(to.getTime() - (bucket === 'day' ? 30 * DAY : DAY));
      return app.audit.stats(from, to, bucket);
    },
  );
};
