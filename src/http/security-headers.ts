/**
 * The security headers on every answer: exactly what @fastify/helmet (helmet 8, default options)
 * set, computed once instead of per request. @fastify/helmet built helmet's middleware anew on
 * every request (about 4% of a small authenticated read's CPU); these are the same header lines,
 * same case, same values, same order, written on the raw response in `onRequest` as helmet did, so
 * a route that sets its own (the console's and the privacy notice's Content-Security-Policy, the
 * API docs') still replaces them. src/http/security-headers.test.ts holds them to @fastify/helmet
 * and to the answers of the app as it was.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  [
    'Content-Security-Policy',
    "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';" +
      "img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';" +
      "style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
  ],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Frame-Options', 'SAMEORIGIN'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-XSS-Protection', '0'],
];

export const securityHeaders = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', (_request, reply, done) => {
      const res = reply.raw;
      for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
      done();
    });
  },
  { name: 'security-headers' },
);
