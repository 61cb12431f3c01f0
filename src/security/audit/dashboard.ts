/**
 * The security dashboard at /admin: three static files from web/admin/, read once at start and
 * served from memory (a fixed list: no path from the request ever reaches the file system).
 *
 * Strict CSP: scripts and styles only from this origin, no inline code, no eval, no framing, API
 * calls only to this origin. The page holds its token in memory and renders every value with
 * textContent, so even a stored XSS payload in an event (a crafted user agent) stays inert.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const WEB_ADMIN_DIR = path.resolve(import.meta.dirname, '../../../web/admin');

const FILES = [
  { url: '/admin', file: 'index.html', type: 'text/html; charset=utf-8', cache: 'no-store' },
  { url: '/admin/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8', cache: 'no-cache' },
  { url: '/admin/app.css', file: 'app.css', type: 'text/css; charset=utf-8', cache: 'no-cache' },
] as const;

export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  for (const f of FILES) {
    const body = await readFile(path.join(WEB_ADMIN_DIR, f.file));
    app.get(f.url, { schema: { hide: true }, config: { audit: false } }, async (_request, reply) =>
      reply
        .type(f.type)
        .header('content-security-policy', DASHBOARD_CSP)
        .header('cache-control', f.cache)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .send(body),
    );
  }
}
