import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { noticeRoutes } from './routes.js';
import { PrivacyNotice } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The privacy notice (src/security/privacy/notice, docs/PRIVACY.md). */
    privacyNotice: PrivacyNotice;
  }
}

/**
 * `app.privacyNotice`, `/privacy` and `GET /api/public/privacy`; fills the contact form's notice
 * port (`app.accounts.contact.useNotice`), so a message must accept the current version.
 */
export const privacyNoticePlugin = fp(
  async (app: FastifyInstance) => {
    const { config } = app.deps;
    const notice = new PrivacyNotice({
      file: config.PRIVACY_NOTICE_FILE,
      version: config.PRIVACY_NOTICE_VERSION,
      saved: () => app.settings.privacyNotice(),
      log: app.log,
    });
    await notice.load();
    app.decorate('privacyNotice', notice);
    app.accounts.contact.useNotice(() => notice.current());
    await app.register(noticeRoutes, { notice, siteName: () => app.settings.siteName() });
  },
  { name: 'privacy-notice', dependencies: ['deps', 'accounts', 'settings', 'shield'] },
);
