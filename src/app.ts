import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import { authPlugin, authRoutesPlugin } from './auth/plugin.js';
import { backupRoutes } from './backup/routes.js';
import type { Config } from './config/index.js';
import { PublicUrl } from './config/public-url.js';
import type { TrustProxy } from './config/schema.js';
import { consolePlugin } from './console/plugin.js';
import { languagesPlugin } from './content/languages/plugin.js';
import { contentPlugin } from './content/plugin.js';
import { contentPreviewPlugin } from './content/preview/plugin.js';
import { contentSchedulePlugin } from './content/schedule/plugin.js';
import { siteTextsPlugin } from './content/texts/plugin.js';
import { categoriesPlugin } from './content/categories/plugin.js';
import { clientIpPlugin } from './http/client-ip.js';
import { healthRoutes } from './http/health.js';
import { httpCachePlugin } from './http/http-cache.js';
import { lazySerializerFactory } from './http/lazy-schemas.js';
import { securityHeaders } from './http/security-headers.js';
import { redactLogArguments, serializeError, serializeRequest } from './http/log-redaction.js';
import { openapiPlugin } from './http/openapi.js';
import { problemPlugin, sendProblem, toAppError } from './http/problem-plugin.js';
import { securityTxtPlugin } from './http/security-txt.js';
import { controlCharacterGuard, validatorCompiler } from './http/validation.js';
import type { Clock } from './platform/clock.js';
import type { Db } from './platform/db/index.js';
import type { Kv } from './platform/kv/index.js';
import { mailPlugin } from './platform/mail/plugin.js';
import { orderByDependencies, routesPlugin } from './platform/plugins.js';
import { accountsPlugin } from './security/accounts/plugin.js';
import { invitationsPlugin } from './security/invitations/plugin.js';
import { auditPlugin, auditRoutesPlugin } from './security/audit/plugin.js';
import { mfaPlugin } from './security/mfa/plugin.js';
import { privacyExportPlugin } from './security/privacy/export/plugin.js';
import { erasurePlugin } from './security/privacy/erasure/plugin.js';
import { retentionPlugin } from './security/privacy/retention/plugin.js';
import { privacyNoticePlugin } from './security/privacy/notice/plugin.js';
import { settingsPlugin } from './settings/plugin.js';
import { alertsPlugin } from './security/monitoring/alerts/plugin.js';
import { monitoringPlugin } from './security/monitoring/plugin.js';
import { tracingPlugin } from './security/monitoring/tracing/plugin.js';
import { shieldPlugin } from './security/shield/plugin.js';
import { shieldRoutes } from './security/shield/routes.js';
import { uploadsPlugin } from './security/uploads/plugin.js';
import { authenticatePlugin } from './security/tokens/authenticate.js';
import { tokensPlugin } from './security/tokens/plugin.js';
import { tokenRoutes } from './security/tokens/routes.js';
import { usersPlugin } from './users/plugin.js';
import { adminUserRoutes } from './users/routes.js';

/** Everything the app needs from outside, built once by server.ts (or a test) and passed in. */
export interface AppDeps {
  config: Config;
  db: Db;
  kv: Kv;
  clock: Clock;
  secrets: { jwt: string };
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
    /**
     * The effective public base URL (src/config/public-url.ts): PUBLIC_URL, or http://HOST:PORT
     * as the server really listens. Every link is built on it, read when the link is made.
     */
    publicUrl: PublicUrl;
  }
}

/** Log redaction: credentials never reach the logs, whatever route or field they come from. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  // Request headers logged by plugins under other names (@fastify/multipart logs its busboy
  // options, headers included, at trace level).
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.secret',
  '*.code',
  'err.config',
];

/**
 * The logger: credentials by path (REDACT_PATHS), and by rule (src/http/log-redaction.ts) secrets
 * in URLs (signed links, one-time tokens, any bearer value) and database statements and values
 * in errors, wherever they appear.
 */
export type LoggerOptions = Exclude<FastifyServerOptions['logger'], boolean | undefined>;

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>): LoggerOptions {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Fastify types the err serializer's result as pino's; ours returns the same shape, redacted.
    serializers: { req: serializeRequest, err: serializeError as never },
    hooks: {
      logMethod(args, method) {
        return method.apply(this, redactLogArguments(args) as Parameters<typeof method>);
      },
    },
  };
}

/**
 * A hop count n means "the n proxies nearest to us are trusted": proxy-addr calls the function
 * with each address from the socket outwards and its index.
 */
function trustProxyOption(value: TrustProxy): FastifyServerOptions['trustProxy'] {
  if (typeof value === 'number') return (_address: string, hop: number) => hop < value;
  return value;
}

/** Registered by buildApp itself, before the features: what every feature may declare. */
const PLATFORM_PLUGINS = ['deps', 'problem', 'control-character-guard', 'client-ip', 'http-cache', 'openapi'];

/**
 * Every feature plugin. The order of this list decides nothing: each declares its dependencies
 * and `orderByDependencies` registers it after them (ties keep this order). Hooks whose order
 * matters are ordered by dependencies too: the shield before `authenticate` (a blocked client is
 * refused before its token is read); login gates by src/auth/gates.ts.
 */
export const FEATURE_PLUGINS = [
  // First: its request span (only with OTEL_EXPORTER_OTLP_ENDPOINT) covers every other feature's hooks.
  tracingPlugin,
  usersPlugin,
  auditPlugin,
  mailPlugin,
  tokensPlugin,
  shieldPlugin,
  routesPlugin('health', ['deps', 'shield'], healthRoutes),
  monitoringPlugin,
  securityTxtPlugin,
  authenticatePlugin,
  authPlugin,
  auditRoutesPlugin,
  accountsPlugin,
  mfaPlugin,
  authRoutesPlugin,
  routesPlugin('token-routes', ['users', 'tokens', 'authenticate', 'audit'], tokenRoutes),
  routesPlugin('user-admin-routes', ['users', 'authenticate', 'audit'], adminUserRoutes),
  invitationsPlugin,
  routesPlugin('shield-routes', ['shield', 'authenticate'], shieldRoutes),
  routesPlugin('backup-routes', ['deps', 'shield', 'authenticate'], backupRoutes),
  alertsPlugin,
  contentPlugin,
  contentSchedulePlugin,
  contentPreviewPlugin,
  languagesPlugin,
  siteTextsPlugin,
  categoriesPlugin,
  settingsPlugin,
  uploadsPlugin,
  privacyExportPlugin,
  privacyNoticePlugin,
  erasurePlugin,
  retentionPlugin,
  consolePlugin,
];

export async function buildApp(
  deps: AppDeps,
  options: {
    logger?: FastifyServerOptions['logger'];
    /** The feature plugins, in any order (tests shuffle them); FEATURE_PLUGINS by default. */
    features?: readonly (typeof FEATURE_PLUGINS)[number][];
  } = {},
): Promise<FastifyInstance> {
  const { config } = deps;
  const fastifyOptions: FastifyServerOptions = {
    logger: options.logger ?? loggerOptions(config),
    // Request ids are ours, never taken from the client: a forged id could poison log correlation.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    bodyLimit: config.JSON_BODY_LIMIT,
    // Slow clients are cut off: the whole request must arrive within REQUEST_TIMEOUT.
    requestTimeout: config.REQUEST_TIMEOUT * 1000,
    connectionTimeout: (config.REQUEST_TIMEOUT + 5) * 1000,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Response serializers compiled on a route's first answer, not at start (src/http/lazy-schemas.ts).
    schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory() } },
    // Router-level errors (bad percent-encoding, over-long params) get problem+json too.
    frameworkErrors: (error, request, reply) => {
      void reply.header('x-request-id', request.id);
      return sendProblem(request, reply, toAppError(error));
    },
  };
  const app = Fastify(fastifyOptions).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // Only JSON bodies: a text/plain body would otherwise be parsed and fail later as a confusing
  // validation error instead of a clear 415.
  app.removeContentTypeParser('text/plain');

  await app.register(
    fp(
      async (instance) => {
        instance.decorate('deps', deps);
        const publicUrl = new PublicUrl(config);
        instance.decorate('publicUrl', publicUrl);
        // The one place the public URL learns the real port (PORT=0): right after listen.
        // Callback style: runs before `await app.listen()` returns to its caller.
        instance.addHook('onListen', (done) => {
          publicUrl.listening(instance.server.address());
          done();
        });
      },
      { name: 'deps' },
    ),
  );
  await app.register(problemPlugin);
  // NUL and other control characters in any body string, path parameter or query value: 400,
  // before any route's hooks, validation or SQL (src/http/validation.ts has the rule).
  await app.register(controlCharacterGuard);
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  // helmet's default headers, computed once (src/http/security-headers.ts).
  await app.register(securityHeaders);
  await app.register(cors, {
    origin: config.CORS_ORIGINS.length > 0 ? config.CORS_ORIGINS : false,
    credentials: true,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    maxAge: 600,
  });
  // Client identity comes first: everything after (the shield, audit, sign-in) reads it.
  await app.register(clientIpPlugin);
  // Caching headers and compression on every answer: signed-in views are private, no-store.
  await app.register(httpCachePlugin);
  await app.register(openapiPlugin);
  // The features, in the order their declared dependencies give (src/platform/plugins.ts).
  for (const plugin of orderByDependencies(options.features ?? FEATURE_PLUGINS, PLATFORM_PLUGINS)) {
    await app.register(plugin);
  }
  return app;
}
