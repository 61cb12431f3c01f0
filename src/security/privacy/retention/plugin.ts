import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { scheduleHousekeeping } from '../../../platform/housekeeping.js';
import { RetentionService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The retention schedule (docs/PRIVACY.md "Retention"): `plan()` and `run()`. */
    privacyRetention: RetentionService;
  }
}

/** The retention job: hourly on every node, one pass at a time (KV leader lease, database lock). */
export const retentionPlugin = fp(
  async (app: FastifyInstance) => {
    const { db, clock, kv, config } = app.deps;
    const service = new RetentionService({
      db,
      clock,
      config,
      kv,
      audit: app.audit,
      auditPii: app.audit,
      outboxDir: config.SMTP_URL ? null : path.resolve(config.DATA_DIR, 'outbox'),
      log: app.log,
    });
    app.decorate('privacyRetention', service);
    scheduleHousekeeping(app, 'privacy-retention', () => service.run());
  },
  { name: 'privacy-retention', dependencies: ['deps', 'audit'] },
);
