import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { accountEventsRoutes } from './account-events.js';
import { installRequestHook } from './hook.js';
import { auditRoutes } from './routes.js';
import { createAuditService, type AuditService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The audit log: `app.audit.record(event, tx?)`. */
    audit: AuditService;
  }
}

/**
 * The tamper-evident audit log as a sink: `app.audit` and the automatic request log. It needs
 * only the database, so it comes first and every module that writes events declares `audit`.
 */
export const auditPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, db, clock } = app.deps;
    const service = await createAuditService({ db, clock, config, log: app.log }, { createKey: true });
    app.decorate('audit', service);
    installRequestHook(app);
    app.addHook('onReady', async () => {
      // Events sealed before their personal data was encrypted: verified, encrypted, re-chained once.
      const migrated = await service.migratePii();
      if (migrated === 'refused')
        app.log.error('audit: personal data NOT encrypted: the chain does not verify (audit verify)');
      service.start();
    });
    // Seal what is committed before the database closes (server.ts closes it after app.close()).
    app.addHook('onClose', async () => service.stop());
  },
  { name: 'audit', dependencies: ['deps'] },
);

/**
 * The admin API under /api/admin/audit (its screen is the console's Audit log, /admin/audit) and
 * every signed-in user's own security events (`GET /api/account/events`, its own encapsulated plugin: no audit:read hook).
 */
export const auditRoutesPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(auditRoutes);
    await app.register(accountEventsRoutes);
  },
  { name: 'audit-routes', dependencies: ['audit', 'authenticate'] },
);
