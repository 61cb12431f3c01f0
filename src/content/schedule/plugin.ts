import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ScheduleJob } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Scheduled publishing (src/content/schedule): `tick()` applies what is due. */
    contentSchedule: ScheduleJob;
  }
}

/**
 * The schedule job of every node: once the app is ready, a try each CONTENT_SCHEDULE_POLL_MS; only
 * the node holding the leader lease (KV) runs the pass, under the database's leader lock.
 * Declares `audit` (each applied time is audited in its transaction) and `content` (the public
 * read's invalidation).
 */
export const contentSchedulePlugin = fp(
  async (app: FastifyInstance) => {
    const { db, clock, kv, config } = app.deps;
    const job = new ScheduleJob({
      db,
      clock,
      kv,
      intervalMs: config.CONTENT_SCHEDULE_POLL_MS,
      audit: app.audit,
      changes: app.content.publicChanges,
      log: app.log,
    });
    app.decorate('contentSchedule', job);
    app.addHook('onReady', async () => job.start());
    app.addHook('onClose', async () => job.stop());
  },
  { name: 'content-schedule', dependencies: ['deps', 'audit', 'content'] },
);
