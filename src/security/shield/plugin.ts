/**
 * The shield, stage 3 of the pipeline (docs/shield.md). Registered after the
 * problem/helmet/CORS setup (so refusals are problem+json with security and CORS headers) and
 * before every route. In onRequest, in this order:
 *
 *   body size (declared length) → load shedding → allow-list (skips the rest) → deny-list →
 *   cached block → one rate-limit decision for every matching policy (+ RateLimit headers)
 *
 * A policy keyed by a body field (login per account) needs the parsed body, so routes that have
 * one take their single decision in preValidation instead, still before validation and the
 * handler. After the response, the client's own violations count towards automatic blocks: a
 * 413 or 408, or a 429 from a bucket of its own (see `isClientsOwn`); never a refusal about a
 * shared budget (an account's login limit, its lockout, a portfolio's contact cap).
 *
 * Everything keys on `request.clientKey` (src/http/client-ip.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import { IpMatcher, clientKeyOf, normalizeIp } from '../../http/client-ip.js';
import { bearerTokenOf } from '../../http/request-identity.js';
import { AUDIT_ACTIONS } from '../audit/actions.js';
import { checkBodyOnRequest, installBodyLimit } from './body-limit.js';
import { applyConnectionLimits } from './connection-limits.js';
import { shieldErrors } from './errors.js';
import { policyHeader, rateLimitHeader } from './headers.js';
import { RateLimiter } from './limiter.js';
import { isLingering } from './lingering-close.js';
import { LoadShedder } from './load-shed.js';
import { ShieldMetrics } from './metrics.js';
import { refusing } from './refusing.js';
import type { BucketState } from './gcra.js';
import { compilePolicies, planBuckets, type PlannedGroup, type Policy } from './policies.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The rate limiter, block list and load shedder (src/security/shield). */
    shield: Shield;
    /** Prometheus registry served at /metrics; other modules may register metrics on it. */
    metrics: Registry;
  }
  interface FastifyRequest {
    /** Set for clients on IP_ALLOW_LIST: never limited, blocked or counted. */
    shieldExempt: boolean;
    /** Set when the shield refused this request on one of the client's own buckets (a violation). */
    shieldViolation: boolean;
  }
}

export interface Shield {
  readonly limiter: RateLimiter;
  readonly shedder: LoadShedder;
  readonly metrics: ShieldMetrics;
  readonly enabled: boolean;
  /**
   * The one operator check (METRICS_ALLOW_LIST against `request.clientIp`, so after TRUST_PROXY):
   * may this client read /metrics and the details of /health/ready?
   */
  readonly isOperator: (request: FastifyRequest) => boolean;
  /**
   * Gives buckets keyed by the body field `field` a scope of their own for some requests: the
   * accounts module scopes the per-account login limit by the owner's trusted device, as the
   * lockout does, so an attacker who spends the account's budget does not lock its owner out
   * of a trusted device. Asked only after the client's own limits admitted the request.
   */
  scopeBodyKey(field: string, resolve: BodyScopeResolver): void;
}

/** The scope of a request's body-keyed buckets (e.g. "device:<id>"), or null for the shared one. */
export type BodyScopeResolver = (request: FastifyRequest) => Promise<string | null>;

/**
 * Which refusals count towards automatic blocks, decided here and nowhere else: what the client
 * alone controls. A body over the size limit (413) or too slow to arrive (408); a 429 only when
 * the shield refused one of the client's own buckets (`request.shieldViolation`). A 429 by
 * status alone proves nothing about the client: ACCOUNT_LOCKED, CONTACT_LIMIT_REACHED and the
 * per-account `login-account` limit refuse a shared budget that anyone, the owner included, runs
 * into; counting them let an attacker who locked an account get its owner's address blocked.
 */
const SIZE_AND_TIME_VIOLATIONS = new Set([413, 408]);

/** A bucket of the client itself (by address, or by its signed-in user), not of a shared resource. */
function isClientsOwn(policy: Policy): boolean {
  return policy.key === 'ip' || policy.key === 'user';
}
const WEEK_MS = 7 * 24 * 3600 * 1000;

export const shieldPlugin = fp(
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
      // One audit event per automatic block (the refusals while blocked are `http.blocked`).
      onBlocked: (block) =>
        app.audit.record({
          action: AUDIT_ACTIONS.clientBlocked,
          actor: 'system',
          outcome: 'denied',
          ip: block.client,
          target: { type: 'client', id: block.client },
          metadata: { level: block.level, until: new Date(block.until).toISOString(), reason: block.reason },
        }),
    });
    const isOperator = (request: FastifyRequest) => metricsAllow.has(request.clientIp);
    const bodyScopes = new Map<string, BodyScopeResolver>();
    const scopeBodyKey = (field: string, resolve: BodyScopeResolver) => void bodyScopes.set(field, resolve);
    /** The scope of the first body field of these policies that has a resolver. */
    const bodyScopeOf = async (request: FastifyRequest, step: Policy[]) => {
      for (const p of step) {
        const field = p.key.startsWith('body:') ? p.key.slice('body:'.length) : null;
        const resolve = field === null ? undefined : bodyScopes.get(field);
        if (field !== null && resolve) {
          const scope = await resolve(request);
          return scope === null ? null : { field, scope };
        }
      }
      return null;
    };
    app.decorate('shield', { limiter, shedder, metrics, enabled, isOperator, scopeBodyKey });
    app.decorate('metrics', metrics.registry);
    app.decorateRequest('shieldExempt', false);
    app.decorateRequest('shieldViolation', false);

    // ---- connection level: slow clients (slowloris), lingering close --------------------------
    // Headers within min(REQUEST_TIMEOUT, 20 s), the whole request within REQUEST_TIMEOUT, both
    // checked every 500 ms instead of Node's 30 s; answers sent while the client is still
    // sending its body close by lingering (./connection-limits.ts).
    applyConnectionLimits(app.server, config);
    // A timed-out connection never becomes a request, so count it here. Only without a trusted
    // proxy: behind one, the socket address is the proxy's, and blocking it would block everyone.
    if (config.TRUST_PROXY === false) {
      // Before Fastify's own handler, which destroys the socket (and with it remoteAddress).
      app.server.prependListener('clientError', (err: NodeJS.ErrnoException, socket: { remoteAddress?: string }) => {
        // A connection draining after its answer (a 413 already counted) is not a slow client.
        if (err.code !== 'ERR_HTTP_REQUEST_TIMEOUT' || isLingering(socket)) return;
        const ip = socket.remoteAddress ? normalizeIp(socket.remoteAddress) : null;
        if (ip && !allow.has(ip)) limiter.recordViolation(clientKeyOf(ip), 408);
      });
    }

    // ---- bodies ------------------------------------------------------------------------------
    const bodyLimit = { max: config.MAX_REQUEST_SIZE, onTooLarge: () => metrics.tooLarge.inc(), onRequestHook: false };
    installBodyLimit(app, bodyLimit);

    // ---- per request ---------------------------------------------------------------------------
    /**
     * The user a valid access token names, for "user"-keyed policies. Runs before
     * authentication (the shield comes first), so it checks the signature itself, through the
     * token service and its cache of verified tokens; the token is read by the one parser
     * (header or, in browser mode, cookie). A bad or missing token simply means "anonymous"
     * (keyed by client) and the route's own authentication answers it.
     */
    const userIdOf = async (request: FastifyRequest): Promise<string | null> => {
      const found = bearerTokenOf(request, true);
      if (!found || found.malformed) return null;
      try {
        return (await app.tokens.verify(found.token, 'access')).sub;
      } catch {
        return null;
      }
    };

    const policyFields = new WeakMap<Policy[], string>();
    /**
     * Two steps, each one atomic decision: first the client's own buckets (by address or user),
     * then the shared ones (an account's, keyed by a body field). So a refusal of a shared budget
     * has still charged the client for the request it sent (a client that keeps knocking on a
     * spent account runs out of its own budget), only refusals of its own buckets are its
     * violations, and the shared key's scope (the owner's trusted device, see `scopeBodyKey`) is
     * looked up only for a request its own limits admitted.
     */
    const decide = async (request: FastifyRequest, reply: FastifyReply, matched: Policy[]) => {
      const userId = matched.some((p) => p.key === 'user') ? await userIdOf(request) : null;
      const who = { clientKey: request.clientKey, userId, body: request.body };
      const own = matched.filter(isClientsOwn);
      const shared = own.length === matched.length ? [] : matched.filter((p) => !isClientsOwn(p));
      const buckets: PlannedGroup[] = [];
      const states: BucketState[] = [];
      let refused: { retryAfterMs: number; policy: string; own: boolean } | null = null;
      for (const step of [own, shared]) {
        if (step.length === 0) continue;
        const scope = step === shared ? await bodyScopeOf(request, step) : null;
        const groups = planBuckets(step, { ...who, bodyScope: scope });
        if (groups.length === 0) continue;
        const decision = await limiter.decide(request.clientKey, groups);
        if (limiter.degraded && matched.some((p) => p.failClosed)) {
          metrics.failClosed.inc();
          throw shieldErrors.limiterUnavailable();
        }
        if (decision.outcome === 'blocked') {
          metrics.blocked.inc({ reason: 'auto' });
          throw shieldErrors.clientBlocked(decision.retryAfterMs);
        }
        buckets.push(...groups);
        states.push(...decision.buckets);
        if (decision.outcome === 'limited') {
          // Name the policy that refused (the first window without room) in the metric.
          let policy = 'unknown';
          let i = 0;
          for (const g of groups) {
            for (let w = 0; w < g.windows.length; w++) {
              if (policy === 'unknown' && (decision.buckets[i]?.remaining ?? 0) < g.cost) policy = g.policy.name;
              i++;
            }
          }
          refused = { retryAfterMs: decision.retryAfterMs, policy, own: step === own };
          break;
        }
      }
      if (buckets.length === 0) return;
      // Every policy the request is subject to, also those a refusal left undecided. The field
      // only changes when a body-keyed policy was skipped: cache the usual one.
      let policyField = policyFields.get(matched);
      if (policyField === undefined) {
        const planned = planBuckets(matched, who);
        policyField = policyHeader(planned);
        if (planned.length === matched.length) policyFields.set(matched, policyField);
      }
      void reply.header('ratelimit-policy', policyField);
      void reply.header('ratelimit', rateLimitHeader(buckets, states));
      if (refused === null) {
        metrics.allowed.inc();
        return;
      }
      metrics.limited.inc({ policy: refused.policy });
      // Only a refusal of the client's own buckets is its violation (SIZE_AND_TIME_VIOLATIONS).
      if (refused.own) request.shieldViolation = true;
      throw shieldErrors.rateLimited(refused.retryAfterMs);
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
        const blockedUntil = limiter.blocks.cached(request.clientKey, at);
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
      const status = reply.statusCode;
      const violation = request.shieldViolation ? 429 : SIZE_AND_TIME_VIOLATIONS.has(status) ? status : null;
      if (violation !== null && !request.shieldExempt && request.clientKey !== '') {
        limiter.recordViolation(request.clientKey, violation);
      }
      done();
    });

    // ---- /metrics ------------------------------------------------------------------------------
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      // Not for the public: answered as a missing route unless the client may scrape.
      if (!isOperator(request)) {
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
  { name: 'shield', dependencies: ['deps', 'problem', 'client-ip', 'tokens', 'audit'] },
);
