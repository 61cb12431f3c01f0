/**
 * RFC 9116 security.txt at /.well-known/security.txt, so a researcher who finds a hole knows where to
 * report it. Values come from configuration (SECURITY_* variables); the RFC's rules live in
 * ./security-txt-rfc.ts. /security.txt (the legacy location) redirects there, and SECURITY.md is
 * published at /security-policy as the default Policy.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { POLICY_PATH, renderSecurityTxt, securityTxtFields, WELL_KNOWN_PATH } from './security-txt-rfc.js';

export { securityTxtExpiryWarning } from './security-txt-rfc.js';

/** SECURITY.md sits at the repository root, two levels above both src/http and dist/http. */
const POLICY_FILE = new URL('../../SECURITY.md', import.meta.url);

async function readPolicy(): Promise<string | undefined> {
  try {
    return await readFile(POLICY_FILE, 'utf8');
  } catch {
    // An image built without SECURITY.md still serves security.txt; the Policy line is left out
    // (or points at SECURITY_POLICY_URL) rather than at a page that would 404.
    return undefined;
  }
}

export const securityTxtPlugin = fp(
  async (app: FastifyInstance) => {
    const policy = await readPolicy();

    app.get(WELL_KNOWN_PATH, { schema: { hide: true } }, async (_request, reply) => {
      const { config, clock } = app.deps;
      const body = renderSecurityTxt(securityTxtFields(config, app.publicUrl, clock.now(), policy !== undefined));
      // RFC 9116 §3: text/plain with an explicit UTF-8 charset. Short cache: Expires may be renewed.
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'public, max-age=3600').send(body);
    });

    // §3: the legacy location "SHOULD" redirect to the well-known one, never serve its own copy.
    app.get('/security.txt', { schema: { hide: true } }, async (_request, reply) =>
      reply.redirect(WELL_KNOWN_PATH, 301),
    );

    if (policy !== undefined) {
      app.get(POLICY_PATH, { schema: { hide: true } }, async (_request, reply) =>
        reply.type('text/markdown; charset=utf-8').header('cache-control', 'public, max-age=3600').send(policy),
      );
    }
  },
  { name: 'security-txt', dependencies: ['deps', 'shield'] },
);
