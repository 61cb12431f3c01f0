import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { adminTextRoutes, publicTextRoutes } from './routes.js';
import { SiteTextService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Site texts (src/content/texts): the website's interface strings per language. */
    siteTexts: SiteTextService;
  }
}

/** Site texts: `app.siteTexts`, the admin routes (authenticated context) and the public read. */
export const siteTextsPlugin = fp(
  async (app: FastifyInstance) => {
    const { db, clock } = app.deps;
    app.decorate('siteTexts', new SiteTextService(db, clock, app.audit, app.languages, app.log));
    await app.register(adminTextRoutes);
    await app.register(publicTextRoutes);
  },
  { name: 'site-texts', dependencies: ['deps', 'audit', 'authenticate', 'languages'] },
);
