/**
 * The web console (web/console, docs/CONSOLE.md), served by this server: the pages behind every
 * mailed link, sign-in, "my account" and the admin (/admin). One single-page app; its paths answer index.html
 * (no-store) and its hashed files are cached for a year (immutable). Read once at start from
 * dist/web; a fixed list from the Vite manifest, so no request path reaches the file system.
 * Without a build (tsx dev before `npm run build`) each path answers 503 CONSOLE_NOT_BUILT.
 *
 * Every answer carries the console's strict CSP (no inline script or style, no eval, no framing,
 * calls only to this origin), Referrer-Policy no-referrer (mailed tokens are in the first URL)
 * and nosniff.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { addVary, negotiateEncoding, PreparedBody } from '../http/http-cache.js';
import { consoleErrors } from './errors.js';
import { compressible, defaultConsoleDir, loadConsoleBuild, type ConsoleFile } from './files.js';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The paths that answer the console's index.html (the app routes them itself). */
export const CONSOLE_PAGES = [
  '/reset-password',
  '/forgot-password',
  '/verify-email',
  '/unlock-account',
  '/accept-invite',
  '/was-this-you',
  '/account',
  '/account/*',
  '/admin',
  '/admin/*',
] as const;

export const INDEX_CACHE = 'no-store';
export const ASSET_CACHE = 'public, max-age=31536000, immutable';

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff');
}

/** The console plugin reading its build from `dir` (tests point it at an empty folder). */
export function consolePluginFrom(dir: string) {
  return fp(
    async (app: FastifyInstance) => {
      const { build, reason } = await loadConsoleBuild(dir);
      if (!build) app.log.warn({ reason }, 'web console not built: its pages answer 503 CONSOLE_NOT_BUILT');
      /**
       * Each file's compressed forms, made on first request and kept (PreparedBody, as the public
       * read does; the files never change while the server runs).
       */
      const prepared = new Map<string, PreparedBody>();
      const send = async (request: FastifyRequest, reply: FastifyReply, key: string, file: ConsoleFile) => {
        addVary(reply, 'Accept-Encoding');
        let body = prepared.get(key);
        if (!body) {
          body = new PreparedBody(file.body);
          prepared.set(key, body);
        }
        const coding =
          compressible(file.type) && body.compressible
            ? negotiateEncoding(request.headers['accept-encoding'])
            : 'identity';
        if (coding === 'identity') return reply.type(file.type).send(file.body);
        return reply
          .type(file.type)
          .header('content-encoding', coding)
          .send(await body.body(coding));
      };
      const index: ConsoleFile | null = build ? { body: build.index, type: 'text/html; charset=utf-8' } : null;

      const page = async (request: FastifyRequest, reply: FastifyReply) => {
        secure(reply).header('cache-control', INDEX_CACHE);
        if (!index) throw consoleErrors.notBuilt();
        return send(request, reply, '/index.html', index);
      };
      const options = { schema: { hide: true }, config: { audit: false } } as const;
      for (const url of CONSOLE_PAGES) app.get(url, options, page);

      app.get<{ Params: { file: string } }>('/assets/:file', options, async (request, reply) => {
        secure(reply);
        if (!build) {
          void reply.header('cache-control', 'no-store');
          throw consoleErrors.notBuilt();
        }
        const key = `/assets/${request.params.file}`;
        const file = build.assets.get(key);
        if (!file) {
          // A name from an older build (or none at all): not cached, so the next build's file is asked for.
          void reply.header('cache-control', 'no-store');
          throw consoleErrors.notFound();
        }
        void reply.header('cache-control', ASSET_CACHE);
        return send(request, reply, key, file);
      });
    },
    { name: 'console', dependencies: ['deps', 'shield'] },
  );
}

export const consolePlugin = consolePluginFrom(defaultConsoleDir());
