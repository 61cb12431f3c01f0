/**
 * The shield, stage 3 of the pipeline (docs/rate-limiting.md). Registered after the
 * problem/helmet/CORS setup (so refusals are problem+json with security and CORS headers) and
 * before every route. In onRequest, in this order:
 *
 *   body size (declared length) → load shedding → allow-list (skips the rest) → deny-list →
 *   cached block → one rate-limit decision for every matching policy (+ RateLimit headers)
 *
 * A policy keyed by a body field (login per account) needs the parsed body, so routes that have
 * one take their single decision in preValidation instead, still before validation and the
 * handler. After the response, 429/413/408 count as violations towards automatic blocks.
 *
 * Everything keys on `request.clientKey` (src/http/client-ip.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import { IpMatcher, clientKeyOf, normalizeIp } from '../../http/client-ip.js';
import { checkBodyOnRequest, installBodyLimit } from './body-limit.js';
import { shieldErrors } from './errors.js';
import { policyHeader, rateLimitHeader } from './headers.js';
import { RateLimiter } from './limiter.js';
import { LoadShedder } from './load-shed.js';
import { ShieldMetrics } from './metrics.js';
import { refusing } from './refusing.js';
import { compilePolicies, planBuckets, type Policy } from './policies.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The rate limiter, block list and load shedder (src/security/ratelimit). */
    shield: Shield;
    /** Prometheus registry served at /metrics; other modules may register metrics on it. */
    metrics: Registry;
  }
  interface FastifyRequest {
    /** Set for clients on IP_ALLOW_LIST: never limited, blocked or counted. */
    shieldExempt: boolean;
  }
}

export interface Shield {
  readonly limiter: RateLimiter;
  readonly shedder: LoadShedder;
  readonly metrics: ShieldMetrics;
  readonly enabled: boolean;
}

/** Violations that count towards automatic blocks. */
const VIOLATIONS = new Set([429, 413, 408]);
/** Verified access tokens -> user id, so keying by user costs no second signature check. */
const TOKEN_CACHE_SIZE = 10_000;
const WEEK_MS = 7 * 24 * 3600 * 1000;

export const rateLimitPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, kv, clock } = app.deps;
    const now = () => clock.now().getTime();
    const metrics = new ShieldMetrics();
    const shedder = new LoadShedder({ maxDelayMs: config.LOAD_SHED_MAX_EVENT_LOOP_DELAY });
    const allow = new IpMatcher(config.IP_ALLOW_LIST);
    const deny = new IpMatcher(config.IP_DENY_LIST);
    const metricsAllow = new IpMatcher(config.METRICS_ALLOW_LIST);
    const enabled = config.RATE_LIMIT_ENABLED;
    const policies: Policy[] = enabled ? compilePolicies(config) : [];
    const limiter = new RateLimiter({
      kv,
      policies,
      clock: now,
      storeTimeoutMs: config.RATE_LIMIT_STORE_TIMEOUT_MS,
      blockRules: config.AUTO_BLOCK_ENABLED
        ? {
            threshold: config.AUTO_BLOCK_THRESHOLD,
            windowMs: config.AUTO_BLOCK_WINDOW * 1000,
            baseMs: config.AUTO_BLOCK_DURATION * 1000,
            maxMs: Math.max(config.AUTO_BLOCK_MAX_DURATION, config.AUTO_BLOCK_DURATION) * 1000,
            // A block within a week of the last one (or twice the longest block) counts as repeated.
            levelTtlMs: Math.max(WEEK_MS, 2 * config.AUTO_BLOCK_MAX_DURATION * 1000),
          }
        : null,
      metrics,
      log: app.log,
    });
    app.decorate('shield', { limiter, shedder, metrics, enabled });
    app.decorate('metrics', metrics.registry);
    app.decorateRequest('shieldExempt', false);

    // ---- connection level: slow clients (slowloris) ------------------------------------------
    // Headers must arrive within min(REQUEST_TIMEOUT, 20 s) and the whole request within
    // REQUEST_TIMEOUT (Fastify's requestTimeout). Node checks these every
    // connectionsCheckingInterval (30 s by default, which would let a slow client hold a socket
    // up to twice as long), so check every second.
    const requestMs = config.REQUEST_TIMEOUT * 1000;
    app.server.headersTimeout = Math.min(requestMs, 20_000);
    // Read by Node when the server starts listening (not in @types/node 20's Server type).
    (app.server as typeof app.server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(
      1_000,
      requestMs,
    );
    // A timed-out connection never becomes a request, so count it here. Only without a trusted
    // proxy: behind one, the socket address is the proxy's, and blocking it would block everyone.
    if (config.TRUST_PROXY === false) {
      // Before Fastify's own handler, which destroys the socket (and with it remoteAddress).
      app.server.prependListener('clientError', (err: NodeJS.ErrnoException, socket: { remoteAddress?: string }) => {
        if (err.code !== 'ERR_HTTP_REQUEST_TIMEOUT') return;
        const ip = socket.remoteAddress ? normalizeIp(socket.remoteAddress) : null;
        if (ip && !allow.has(ip)) limiter.recordViolation(clientKeyOf(ip), 408);
      });
    }

    // ---- bodies ------------------------------------------------------------------------------
    const bodyLimit = { max: config.MAX_REQUEST_SIZE, onTooLarge: () => metrics.tooLarge.inc(), onRequestHook: false };
    installBodyLimit(app, bodyLimit);

    // ---- per request ---------------------------------------------------------------------------
    const userIds = new Map<string, { userId: string; expiresAt: number }>();
    /**
     * The user a valid access token names, for "user"-keyed policies. Runs before
     * authentication (the shield comes first), so it checks the signature itself; a bad or
     * missing token simply means "anonymous" (keyed by client) and the route's own
     * authentication answers it. Verified tokens are cached until they expire.
     */
    const userIdOf = async (request: FastifyRequest): Promise<string | null> => {
      const header = request.headers.authorization;
      if (typeof header !== 'string' || !header.startsWith('Bearer ') || !app.hasDecorator('tokens')) return null;
      const token = header.slice(7);
      const cached = userIds.get(token);
      if (cached && cached.expiresAt > now()) return cached.userId;
      try {
        const claims = await app.tokens.verify(token, 'access');
        if (userIds.size >= TOKEN_CACHE_SIZE) userIds.clear();
        userIds.set(token, { userId: claims.sub, expiresAt: claims.exp * 1000 });
        return claims.sub;
      } catch {
        return null;
      }
    };

    const policyFields = new WeakMap<Policy[], string>();
    const decide = async (request: FastifyRequest, reply: FastifyReply, matched: Policy[]) => {
      const userId = matched.some((p) => p.key === 'user') ? await userIdOf(request) : null;
      const buckets = planBuckets(matched, { clientKey: request.clientKey, userId, body: request.body });
      if (buckets.length === 0) return;
      const decision = await limiter.decide(request.clientKey, buckets);
      if (limiter.degraded && matched.some((p) => p.failClosed)) {
        metrics.failClosed.inc();
        throw shieldErrors.limiterUnavailable();
      }
      if (decision.outcome === 'blocked') {
        metrics.blocked.inc({ reason: 'auto' });
        throw shieldErrors.clientBlocked(decision.retryAfterMs);
      }
      // The policy field only changes when a body-keyed policy was skipped: cache the usual one.
      let policyField = buckets.length === matched.length ? policyFields.get(matched) : undefined;
      if (policyField === undefined) {
        policyField = policyHeader(buckets);
        if (buckets.length === matched.length) policyFields.set(matched, policyField);
      }
      void reply.header('ratelimit-policy', policyField);
      void reply.header('ratelimit', rateLimitHeader(buckets, decision.buckets));
      if (decision.outcome === 'allowed') {
        metrics.allowed.inc();
        return;
      }
      // Name the policy that refused (the first window without room) in the metric.
      let refusing = 'unknown';
      let i = 0;
      for (const g of buckets) {
        for (let w = 0; w < g.windows.length; w++) {
          if (refusing === 'unknown' && (decision.buckets[i]?.remaining ?? 0) < g.cost) refusing = g.policy.name;
          i++;
        }
      }
      metrics.limited.inc({ policy: refusing });
      throw shieldErrors.rateLimited(decision.retryAfterMs);
    };

    app.addHook(
      'onRequest',
      refusing(async (request, reply) => {
        checkBodyOnRequest(request, reply, bodyLimit);
        if (shedder.overloaded && request.routeOptions.url !== '/health/live') {
          metrics.shed.inc();
          throw shieldErrors.overloaded(shedder.retryAfterSeconds);
        }
        if (allow.has(request.clientIp)) {
          request.shieldExempt = true;
          return;
        }
        if (deny.has(request.clientIp)) {
          metrics.blocked.inc({ reason: 'deny' });
          throw shieldErrors.denied();
        }
        const at = now();
        const blockedUntil = limiter.cachedBlock(request.clientKey, at);
        if (blockedUntil !== null) {
          metrics.blocked.inc({ reason: 'auto' });
          throw shieldErrors.clientBlocked(blockedUntil - at);
        }
        if (!enabled) return;
        const plan = limiter.plan(request.method, request.routeOptions.url ?? null);
        if (plan.policies.length === 0 || plan.needsBody) return;
        await decide(request, reply, plan.policies);
      }),
    );

    // Routes with a body-keyed policy (login per account) decide in preValidation, once the body
    // is parsed. The hook is added to those routes only, as they are registered: every other
    // route pays nothing for it.
    const decideAfterParsing = refusing(async (request, reply) => {
      if (request.shieldExempt) return;
      const plan = limiter.plan(request.method, request.routeOptions.url ?? null);
      if (plan.needsBody) await decide(request, reply, plan.policies);
    });
    app.addHook('onRoute', (route) => {
      if (!enabled) return;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (!methods.some((method) => limiter.plan(method, route.url).needsBody)) return;
      const existing = route.preValidation;
      route.preValidation =
        existing === undefined
          ? [decideAfterParsing]
          : [decideAfterParsing, ...(Array.isArray(existing) ? existing : [existing])];
    });

    // Callback style: no promise per response for a hook that almost always does nothing.
    app.addHook('onResponse', (request, reply, done) => {
      if (!request.shieldExempt && VIOLATIONS.has(reply.statusCode) && request.clientKey !== '') {
        limiter.recordViolation(request.clientKey, reply.statusCode);
      }
      done();
    });

    // ---- /metrics ------------------------------------------------------------------------------
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      // Not for the public: answered as a missing route unless the client may scrape.
      if (!metricsAllow.has(request.clientIp)) {
        return reply.callNotFound();
      }
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });

    app.addHook('onReady', async () => {
      // Measured from here: building the app may itself hold the event loop for a while.
      shedder.start();
      await limiter.start();
    });
    app.addHook('onClose', async () => {
      shedder.close();
      await limiter.close();
    });
  },
  { name: 'rate-limit', dependencies: ['deps', 'problem', 'client-ip'] },
);
