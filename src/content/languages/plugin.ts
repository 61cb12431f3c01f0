import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { adminLanguageRoutes, publicLanguageRoutes } from './routes.js';
import { LANGUAGES_CHANNEL, LanguageService, type LanguageChange } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Site languages (src/content/languages): the default, fallback chains, `onChange`. */
    languages: LanguageService;
  }
}

/**
 * Site languages: `app.languages`, the admin routes (in their own authenticated context) and the
 * public list. Declares `audit` (every change is audited in its transaction), `authenticate`, and
 * `users` (it registers the check of a role's languages: `app.users.roles.setLanguageCheck`).
 */
export const languagesPlugin = fp(
  async (app: FastifyInstance) => {
    const { db, clock, kv } = app.deps;
    const service = new LanguageService(db, clock, app.audit, undefined, app.log);
    // A change made on another node: run this node's listeners (cache invalidation).
    const origin = randomUUID();
    service.announce = (change) => kv.publish(LANGUAGES_CHANNEL, JSON.stringify({ origin, change }));
    const unsubscribe = await kv
      .subscribe(LANGUAGES_CHANNEL, (raw) => {
        let message: { origin?: unknown; change?: LanguageChange };
        try {
          message = JSON.parse(raw) as typeof message;
        } catch {
          return;
        }
        if (message.origin === origin || typeof message.change?.code !== 'string') return;
        void service.notify(message.change);
      })
      .catch(() => null);
    app.addHook('onClose', async () => unsubscribe?.());
    // A role limited to languages (src/users/roles.ts) may name only enabled ones: the users
    // plugin comes first and knows nothing of languages, so this plugin plugs the check in.
    app.users.roles.setLanguageCheck((codes, tx) => service.requireEnabled(codes, tx));
    app.decorate('languages', service);
    await app.register(adminLanguageRoutes);
    await app.register(publicLanguageRoutes);
  },
  { name: 'languages', dependencies: ['deps', 'users', 'audit', 'authenticate'] },
);
