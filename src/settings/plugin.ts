import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { settingsRoutes } from './routes.js';
import { SETTINGS_CHANNEL, SETTINGS_REFRESH_MS, SettingsService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Site settings (src/settings, docs/SETTINGS.md): `siteName()`, `publicCacheMaxAge()`, ... from memory. */
    settings: SettingsService;
  }
}

/**
 * Site settings: `app.settings` (loaded before the app is ready, kept current over the KV
 * channel), the site name given to the mailer (`app.mail.useSiteName`), and the admin routes.
 * Declares `languages` (the default language is theirs), `audit` (changes are audited in their
 * transaction), `mail`, `authenticate` and `shield` (its routes come after the shield).
 */
export const settingsPlugin = fp(
  async (app: FastifyInstance) => {
    const { db, clock, kv, config } = app.deps;
    const service = new SettingsService({
      db,
      clock,
      config,
      audit: app.audit,
      languages: app.languages,
      log: app.log,
    });
    // The languages service's pattern: an origin per node, every other node reloads.
    const origin = randomUUID();
    service.announce = () => kv.publish(SETTINGS_CHANNEL, JSON.stringify({ origin }));
    const unsubscribe = await kv
      .subscribe(SETTINGS_CHANNEL, (raw) => {
        let message: { origin?: unknown };
        try {
          message = JSON.parse(raw) as typeof message;
        } catch {
          return;
        }
        if (message.origin === origin) return;
        service.load().catch((err: unknown) => app.log.warn({ err }, 'settings reload failed'));
      })
      .catch(() => null);
    await service.load();
    const timer = setInterval(() => {
      service.load().catch((err: unknown) => app.log.warn({ err }, 'settings reload failed'));
    }, SETTINGS_REFRESH_MS);
    timer.unref();
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await unsubscribe?.();
    });
    app.decorate('settings', service);
    app.mail.useSiteName(() => service.siteName());
    await app.register(settingsRoutes);
  },
  { name: 'settings', dependencies: ['deps', 'audit', 'mail', 'authenticate', 'shield', 'languages'] },
);
