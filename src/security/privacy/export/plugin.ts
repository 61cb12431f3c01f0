import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { hrefOf } from '../../../config/public-url.js';
import { scheduleHousekeeping } from '../../../platform/housekeeping.js';
import { deriveKey } from '../../uploads/signing.js';
import { openUploadStore } from '../../uploads/plugin.js';
import { exportRoutes } from './routes.js';
import { ExportService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Data exports (src/security/privacy/export, docs/PRIVACY.md): requests, the job, one-time links. */
    privacyExport: ExportService;
  }
}

/**
 * `app.privacyExport` and its routes. The archives go to the uploads' store (local directory or
 * S3) under `privacy-exports/`, read back from it; media files are read from the same store. The
 * job runs on every node each PRIVACY_EXPORT_POLL_MS, the leader only (KV lease), and
 * housekeeping deletes archives downloaded or older than 7 days.
 */
export const privacyExportPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, db, clock, kv, secrets } = app.deps;
    const store = await openUploadStore(config);
    const service = new ExportService({
      db,
      clock,
      kv,
      audit: app.audit,
      mail: app.mail,
      users: app.users,
      mediaStore: store,
      archiveStore: store,
      linkKey: deriveKey(secrets.jwt, 'privacy-export-link'),
      linkTtlSeconds: config.PRIVACY_EXPORT_LINK_TTL,
      urlOf: (path) => new URL(path.replace(/^\/+/, ''), hrefOf(app.publicUrl).replace(/\/*$/, '/')).toString(),
      intervalMs: config.PRIVACY_EXPORT_POLL_MS,
      log: app.log,
    });
    app.decorate('privacyExport', service);
    scheduleHousekeeping(app, 'privacy-export', () => service.deleteExpiredArchives());
    await app.register(exportRoutes);
    app.addHook('onReady', async () => service.start());
    app.addHook('onClose', async () => {
      await service.stop();
      await store.close();
    });
  },
  { name: 'privacy-export', dependencies: ['deps', 'users', 'audit', 'mail', 'authenticate', 'shield'] },
);
