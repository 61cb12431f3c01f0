import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { publicContentRoutes } from './public-read/routes.js';
import { contentRoutes } from './routes.js';
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
    const { db, clock, kv, config } = app.deps;
    const content = new ContentService({
      db,
      clock,
      kv,
      log: app.log,
      languages: app.languages,
      cache: {
        maxBytes: config.PUBLIC_READ_CACHE_SIZE_MB * 1024 * 1024,
        maxStalenessMs: config.PUBLIC_READ_CACHE_MAX_STALENESS_MS,
      },
    });
    app.decorate('content', content);
    // A disabled owner's portfolios leave the public read in the same transaction.
    app.users.onChanging(async (tx, userId, change) => {
      if (change.disabled !== undefined) await content.publicChanges.touchOwner(tx, userId);
    });
    // A language removed with its translations (forced delete) changes every portfolio's texts.
    app.languages.onContentChanging((tx) => content.publicChanges.touchAll(tx));
    app.addHook('onReady', () => content.publicChanges.start());
    app.addHook('onClose', () => content.publicChanges.stop());
    await app.register(contentRoutes);
    await app.register(publicContentRoutes);
  },
  { name: 'content', dependencies: ['deps', 'users', 'languages', 'authenticate', 'settings'] },
);
