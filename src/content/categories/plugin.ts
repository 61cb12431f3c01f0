import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { categoryRoutes } from './routes.js';
import { CategoryService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Category types and categories (src/content/categories). */
    categories: CategoryService;
  }
}

/**
 * Categories: `app.categories` and its routes (in their own authenticated context). Declares
 * `content` (a change touches the public read of the portfolios using it) and `languages`
 * (translations must be enabled languages, the plain name is the site default's).
 */
export const categoriesPlugin = fp(
  async (app: FastifyInstance) => {
    const { db, clock } = app.deps;
    app.decorate('categories', new CategoryService(db, clock, app.languages, app.content.publicChanges));
    await app.register(categoryRoutes);
  },
  { name: 'categories', dependencies: ['deps', 'content', 'languages', 'authenticate'] },
);
