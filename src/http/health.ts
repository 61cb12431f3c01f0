import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const Check = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]), kind: Type.String() });

/**
 * Liveness says the process answers; readiness says it can serve: the database and, when
 * configured, Redis respond. A load balancer takes a not-ready node out of rotation (503).
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
          200: Type.Object({ status: Type.String(), checks: Type.Object({ database: Check, kv: Check }) }),
          503: Type.Object({ status: Type.String(), checks: Type.Object({ database: Check, kv: Check }) }),
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
      const [database, kvStatus] = await Promise.all([probe(() => db.ping(), 'database'), probe(() => kv.ping(), 'kv')]);
      const ready = database === 'ok' && kvStatus === 'ok';
      return reply.status(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not_ready',
        checks: { database: { status: database, kind: db.kind }, kv: { status: kvStatus, kind: kv.kind } },
      });
    },
  );
};

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}
