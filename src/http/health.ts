import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { rpoStatus, type RpoStatus } from '../backup/status.js';
import { withTimeout } from '../platform/with-timeout.js';

const Check = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]), kind: Type.String() });
/** The rate limiter's store: "degraded" while it limits per node in memory because Redis is unreachable. */
const LimiterCheck = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  kind: Type.String(),
});
/**
 * Backups against the RPO (src/backup/status.ts): "stale" when the newest verified (drilled)
 * backup is older than BACKUP_RPO_HOURS. Reported only: a stale backup must not take a node out
 * of the load balancer, so it never changes the 200/503 answer.
 */
const BackupCheck = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('stale'), Type.Literal('none'), Type.Literal('unknown')]),
  newestVerifiedAt: Type.Union([Type.String(), Type.Null()]),
  ageHours: Type.Union([Type.Number(), Type.Null()]),
  rpoHours: Type.Number(),
});

/** `checks` only for operators (METRICS_ALLOW_LIST); everyone else gets the status alone. */
const Readiness = Type.Object({
  status: Type.String(),
  checks: Type.Optional(
    Type.Object({
      database: Check,
      kv: Check,
      rateLimit: Type.Optional(LimiterCheck),
      backup: Type.Optional(BackupCheck),
    }),
  ),
});

/**
 * Liveness says the process answers; readiness says it can serve: the database and, when
 * configured, Redis respond. A load balancer takes a not-ready node out of rotation (503); an
 * unreachable Redis only makes the node "degraded" (200), see below.
 *
 * Which stores run, which check fails and how old the newest backup is are for operators: the
 * details go only to clients that may read /metrics (`app.shield.isOperator`, METRICS_ALLOW_LIST
 * after TRUST_PROXY), everyone else gets `{ status }` with the same 200/503.
 */
export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health/live',
    { schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['health'],
        response: {
          200: Readiness,
          503: Readiness,
        },
      },
    },
    async (request, reply) => {
      const { db, kv } = app.deps;
      const probe = async (fn: () => Promise<void>, name: string) => {
        try {
          await withTimeout(fn(), 2_000);
          return 'ok' as const;
        } catch (err) {
          request.log.warn({ err, check: name }, 'readiness check failed');
          return 'fail' as const;
        }
      };
      const [database, kvStatus, backup] = await Promise.all([
        probe(() => db.ping(), 'database'),
        probe(() => kv.ping(), 'kv'),
        withTimeout(rpoStatus(app.deps.config, app.deps.clock.now()), 2_000).catch(
          (): RpoStatus | { status: 'unknown'; newestVerifiedAt: null; ageHours: null; rpoHours: number } => ({
            status: 'unknown',
            newestVerifiedAt: null,
            ageHours: null,
            rpoHours: app.deps.config.BACKUP_RPO_HOURS,
          }),
        ),
      ]);
      // Redis down is "degraded", not "not ready": the rate limiter goes on per node in memory
      // (src/security/shield/failover.ts), and taking every node out of rotation would turn
      // a Redis outage into a full one. The database stays a hard requirement.
      const limiter = app.shield.limiter;
      const degraded = kvStatus !== 'ok' || limiter.degraded;
      const ready = database === 'ok';
      const status = !ready ? 'not_ready' : degraded ? 'degraded' : 'ready';
      // Details only for operators (METRICS_ALLOW_LIST).
      if (!app.shield.isOperator(request)) return reply.status(ready ? 200 : 503).send({ status });
      return reply.status(ready ? 200 : 503).send({
        status,
        checks: {
          database: { status: database, kind: db.kind },
          kv: { status: kvStatus, kind: kv.kind },
          rateLimit: { status: limiter.degraded ? ('degraded' as const) : ('ok' as const), kind: limiter.mode },
          backup,
        },
      });
    },
  );
};
