/**
 * `/privacy` (the notice as an HTML page: the text escaped, paragraphs and line breaks kept, no
 * script, no inline style, its own strict CSP) and `GET /api/public/privacy` (its version, date
 * and address, for a contact form that asks for acceptance).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { hrefOf } from '../../../config/public-url.js';
import { Problem } from '../../../http/common-schemas.js';
import { escapeHtml } from '../../../platform/mail/headers.js';
import { noticeErrors } from './errors.js';
import type { PrivacyNotice } from './service.js';

export const PrivacyInfo = Type.Object(
  {
    version: Type.String({
      description: 'Send it as privacyNoticeVersion with a contact message to accept the notice',
    }),
    updatedAt: Type.String({ format: 'date-time' }),
    url: Type.String({ description: 'The notice as a page (/privacy)' }),
  },
  { additionalProperties: false, title: 'PrivacyNotice' },
);

/** The page's CSP: nothing but itself, no scripts, no styles, never framed. */
export const NOTICE_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The notice as HTML: every character of the text escaped; blank lines split paragraphs. */
export function noticeHtml(text: string, siteName: string, version: string, updatedAt: Date): string {
  const paragraphs = text
    .trim()
    .split(/\n{2,}/)
    .map((p) => `<p>${p.split('\n').map(escapeHtml).join('<br>\n')}</p>`)
    .join('\n');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Privacy notice — ${escapeHtml(siteName)}</title>`,
    '</head>',
    '<body>',
    '<main>',
    `<h1>Privacy notice — ${escapeHtml(siteName)}</h1>`,
    `<p>Version ${escapeHtml(version)}, updated ${escapeHtml(updatedAt.toISOString().slice(0, 10))}.</p>`,
    paragraphs,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export const noticeRoutes: FastifyPluginAsyncTypebox<{ notice: PrivacyNotice; siteName: () => string }> = async (
  app,
  { notice, siteName },
) => {
  const urlOf = () => new URL('privacy', hrefOf(app.publicUrl).replace(/\/*$/, '/')).toString();

  app.get(
    '/api/public/privacy',
    {
      schema: {
        tags: ['public', 'privacy'],
        summary: "The privacy notice's version, date and page (404 PRIVACY_NOTICE_NOT_CONFIGURED: none)",
        response: { 200: PrivacyInfo, 404: Problem },
      },
    },
    async (_request, reply) => {
      const current = await notice.current();
      void reply.header('cache-control', 'no-cache');
      if (!current) throw noticeErrors.notConfigured();
      return { version: current.version, updatedAt: current.updatedAt.toISOString(), url: urlOf() };
    },
  );

  app.get('/privacy', { schema: { hide: true } }, async (_request, reply) => {
    const current = await notice.current();
    if (!current) throw noticeErrors.notConfigured();
    return reply
      .headers({
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': NOTICE_CSP,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      })
      .send(noticeHtml(current.text, siteName(), current.version, current.updatedAt));
  });
};
