import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { scheduleHousekeeping } from '../../platform/housekeeping.js';
import { previewAdminRoutes, previewPublicRoutes } from './routes.js';
import { PreviewService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Preview links (src/content/preview): make, list, revoke, read. */
    contentPreview: PreviewService;
  }
}

/**
 * Preview links: `app.contentPreview`, the management routes (their own authenticated context)
 * and the anonymous preview read. Declares `audit` (create and revoke are audited in their
 * transaction), `authenticate` and `content` (authorization through the portfolio, and the public
 * read's statement and rendering).
 */
export const contentPreviewPlugin = fp(
  async (app: FastifyInstance) => {
    const { db, clock } = app.deps;
    const previews = new PreviewService({
      db,
      clock,
      audit: app.audit,
      content: app.content,
      baseUrl: () => app.publicUrl.href.replace(/\/+$/, ''),
    });
    app.decorate('contentPreview', previews);
    // Rows of links expired longer than PREVIEW_LINK_RETENTION_MS go (revoked links are deleted at once).
    scheduleHousekeeping(app, 'content-preview', () => previews.deleteStale());
    await app.register(previewAdminRoutes);
    await app.register(previewPublicRoutes);
  },
  { name: 'content-preview', dependencies: ['deps', 'audit', 'authenticate', 'content'] },
);
