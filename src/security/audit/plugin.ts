import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { dashboardRoutes } from './dashboard.js';
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
 * The tamper-evident audit log: `app.audit`, the automatic request log, the admin API under
 * /api/admin/audit and the dashboard at /admin. Registered right after `auth`, before the routes
 * whose requests it logs.
 */
export const auditPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, db, clock } = app.deps;
    const service = await createAuditService({ db, clock, config, log: app.log }, { createKey: true });
    app.decorate('audit', service);
    installRequestHook(app);
    await app.register(auditRoutes);
    await app.register(dashboardRoutes);
    app.addHook('onReady', async () => service.start());
    // Seal what is committed before the database closes (server.ts closes it after app.close()).
    app.addHook('onClose', async () => service.stop());
  },
  { name: 'audit', dependencies: ['deps', 'auth'] },
);
