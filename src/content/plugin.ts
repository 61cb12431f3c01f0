import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { contentRoutes, publicContentRoutes } from './routes.js';
import { ContentService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    content: ContentService;
  }
}

/**
 * Portfolios and their content. The protected routes live in their own encapsulated context, so
 * its authenticate hook cannot leak onto the public routes (or anyone else's).
 */
export const contentPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('content', new ContentService(app.deps.db, app.deps.clock));
    await app.register(contentRoutes);
    await app.register(publicContentRoutes);
  },
  { name: 'content', dependencies: ['deps', 'authenticate'] },
);
