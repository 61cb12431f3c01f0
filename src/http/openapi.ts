import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/index.js';

/** API_DOCS, resolved: public outside production, off in production unless set to public. */
export function apiDocsPublic(config: Pick<Config, 'API_DOCS' | 'NODE_ENV'>): boolean {
  return (config.API_DOCS ?? (config.NODE_ENV === 'production' ? 'off' : 'public')) === 'public';
}

/**
 * OpenAPI 3.1 generated from the route schemas, at /api/openapi.json, and a docs page at /docs.
 *
 * With API_DOCS off (the production default) neither is registered: /docs, /docs/json,
 * /docs/static/... and /api/openapi.json are simply no routes, so every spelling of them
 * (trailing slash, case, percent-encoding, double slashes) gets the same 404 problem+json as
 * any unknown path. The spec itself is still generated (`app.swagger()`) for internal use.
 *
 * `servers` is filled in when the document is served, from `app.publicUrl`: the spec is built
 * once and cached, possibly before the server listens (PORT=0 learns its port only then).
 */
export const openapiPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Portfolio backend API',
          version: '0.1.0',
          description:
            'Portfolios, projects, sections and media behind a security layer. Errors are RFC 9457 problem+json with a stable `code`.',
        },
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
      },
    });
    if (!apiDocsPublic(app.deps.config)) return;
    const withServers = <T extends object>(spec: T) => ({ ...spec, servers: [{ url: app.publicUrl.href }] });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      uiConfig: { docExpansion: 'list' },
      // withServers copies, never mutates, the cached spec.
      transformSpecification: (spec) => withServers(spec),
      transformSpecificationClone: false,
    });
    app.get('/api/openapi.json', { schema: { hide: true } }, async () => withServers(app.swagger()));
  },
  { name: 'openapi', dependencies: ['deps'] },
);
