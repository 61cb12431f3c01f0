import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
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
    app.decorate(
      'contentPreview',
      new PreviewService({
        db,
        clock,
        audit: app.audit,
        content: app.content,
        baseUrl: () => app.publicUrl.href.replace(/\/+$/, ''),
      }),
    );
    await app.register(previewAdminRoutes);
    await app.register(previewPublicRoutes);
  },
  { name: 'content-preview', dependencies: ['deps', 'audit', 'authenticate', 'content'] },
);
