/**
 * Wires token security into the app: `app.tokens`, the `authenticate` hook every protected route
 * runs, `requireRecentAuth` for sensitive actions, browser cookies with CSRF protection, and the
 * security events (verification failures, binding mismatches) in the audit log.
 */
import { userEvent } from '../audit/event.js';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../http/errors.js';
import type { Actor } from '../../users/policy.js';
import { AUDIT_ACTIONS } from '../audit/actions.js';
import type { ClientFacts } from './binding.js';
import type { Restriction } from './claims.js';
import { KeyRing } from './keys.js';
import type { UserTokenState } from './repository.js';
import { RevocationCache } from './revocation.js';
import { TokenError, TokenService, type IssuedPair, type TokenFailure } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService;
    /** onRequest hook for protected routes: sets request.actor or answers 401/403. */
    authenticate: (request: FastifyRequest) => Promise<void>;
    /** After `authenticate`: 401 REAUTH_REQUIRED when the sign-in is older than REAUTH_MAX_AGE. */
    requireRecentAuth: (request: FastifyRequest) => Promise<void>;
    /** Browser mode: sets (or clears, with null) the auth cookies on a reply. */
    setAuthCookies: (reply: FastifyReply, pair: IssuedPair | null) => void;
  }
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    /** Restricted tokens (e.g. MFA enrollment only) may call this route. */
    allowRestricted?: readonly Restriction[];
  }
}

export const COOKIE_ACCESS = '__Host-access';
export const COOKIE_REFRESH = '__Secure-refresh';
export const COOKIE_CSRF = '__Host-csrf';
export const CSRF_HEADER = 'x-csrf-token';
const REFRESH_COOKIE_PATH = '/api/auth';

const RESTRICTION_CODES: Record<Restriction, [string, string]> = {
  mfa_enrollment: ['MFA_ENROLLMENT_REQUIRED', 'Enroll a second factor before using the API'],
  password_change: ['PASSWORD_CHANGE_REQUIRED', 'Change your password before using the API'],
};

export function clientFactsOf(request: FastifyRequest): ClientFacts {
  const ua = request.headers['user-agent'];
  return { ip: request.clientIp, userAgent: typeof ua === 'string' ? ua : '' };
}

function unauthorized(): AppError {
  return new AppError(401, 'UNAUTHORIZED', 'Unauthorized', 'Authentication is required', {
    headers: { 'www-authenticate': 'Bearer' },
  });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The token of a request and where it came from; null when there is none. */
function tokenOf(request: FastifyRequest, cookies: boolean): { token: string; from: 'header' | 'cookie' } | null {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header !== '') {
    // "Bearer <token>" (scheme case-insensitive). A malformed header is a bad token, answered
    // exactly like any other bad token; the token's own shape is checked by verify().
    const token = header.length > 7 && header.slice(0, 7).toLowerCase() === 'bearer ' ? header.slice(7).trim() : '';
    if (token === '' || /\s/.test(token)) throw new TokenError('malformed');
    return { token, from: 'header' };
  }
  if (cookies) {
    const value = request.cookies[COOKIE_ACCESS];
    if (value) return { token: value, from: 'cookie' };
  }
  return null;
}

function equalStrings(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const tokensPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, db, kv, clock, secrets } = app.deps;
    const verifyWindow = Math.max(config.ACCESS_TOKEN_TTL, config.REFRESH_TOKEN_TTL) + config.JWT_CLOCK_TOLERANCE;
    const ring = new KeyRing(db, clock, {
      algorithm: config.JWT_ALGORITHM,
      secret: secrets.jwt,
      privateKeyFile: config.JWT_PRIVATE_KEY_FILE,
      verifyWindowSeconds: verifyWindow,
      announce: () => kv.publish(KEYS_CHANNEL, 'rotated'),
    });
    await ring.init();
    const tokens = new TokenService(
      db,
      ring,
      (repo) => new RevocationCache(repo, kv, clock, { onError: (err) => app.log.warn({ err }, 'revocation channel') }),
      clock,
      {
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        accessTtl: config.ACCESS_TOKEN_TTL,
        refreshTtl: config.REFRESH_TOKEN_TTL,
        clockTolerance: config.JWT_CLOCK_TOLERANCE,
        reuseGrace: config.REFRESH_REUSE_GRACE,
        binding: config.TOKEN_BINDING,
        bindingParts: config.TOKEN_BINDING_PARTS,
        cacheSize: config.TOKEN_CACHE_SIZE,
      },
    );
    await tokens.revocation.start();
    // Housekeeping: rows of tokens that have all expired carry no information any more.
    const purge = setInterval(() => {
      tokens.purgeExpired().catch((err: unknown) => app.log.warn({ err }, 'token purge'));
    }, 3_600_000);
    purge.unref();
    app.addHook('onClose', async () => {
      clearInterval(purge);
      await tokens.revocation.stop();
    });
    // Another node rotated keys: reread the ring so this node signs with the new key too.
    const unsubscribeKeys = await kv
      .subscribe(
        KEYS_CHANNEL,
        () => void ring.reload().catch((err: unknown) => app.log.warn({ err }, 'key ring reload')),
      )
      .catch(() => null);
    app.addHook('onClose', async () => unsubscribeKeys?.());
    app.decorate('tokens', tokens);

    // Users whose roles or status change are reread everywhere; a disabled account loses every token.
    app.users.onChanged(async (userId, change) => {
      if (change.disabled === true) await tokens.revokeUser(userId, 'disabled');
      else await tokens.userChanged(userId);
    });

    await app.register(cookie);
    const cookiesOn = config.AUTH_COOKIES;
    // Our own origin is read per request from app.publicUrl: its port is known once the server listens.
    const corsOrigins = new Set(config.CORS_ORIGINS);
    const allowedOrigin = (origin: string) => origin === app.publicUrl.origin || corsOrigins.has(origin);

    app.decorate('setAuthCookies', (reply: FastifyReply, pair: IssuedPair | null) => {
      if (!cookiesOn) return;
      const base = { httpOnly: true, secure: true, sameSite: 'strict' as const };
      if (!pair) {
        void reply.clearCookie(COOKIE_ACCESS, { ...base, path: '/' });
        void reply.clearCookie(COOKIE_REFRESH, { ...base, path: REFRESH_COOKIE_PATH });
        void reply.clearCookie(COOKIE_CSRF, { secure: true, sameSite: 'strict', path: '/' });
        return;
      }
      void reply.setCookie(COOKIE_ACCESS, pair.accessToken, { ...base, path: '/', maxAge: pair.expiresIn });
      void reply.setCookie(COOKIE_REFRESH, pair.refreshToken, {
        ...base,
        path: REFRESH_COOKIE_PATH,
        maxAge: pair.refreshExpiresIn,
      });
      // Readable by the page's script, which echoes it in X-CSRF-Token (double submit).
      void reply.setCookie(COOKIE_CSRF, randomBytes(32).toString('base64url'), {
        secure: true,
        sameSite: 'strict',
        path: '/',
        maxAge: pair.refreshExpiresIn,
      });
    });

    /**
     * Cookie-authenticated state changes must come from our own pages: the Origin (or Referer)
     * must be ours and the X-CSRF-Token header must echo the CSRF cookie, which another site can
     * neither read nor set.
     */
    function assertCsrf(request: FastifyRequest): void {
      if (SAFE_METHODS.has(request.method)) return;
      const origin = request.headers.origin ?? refererOrigin(request.headers.referer);
      const header = request.headers[CSRF_HEADER];
      const cookieValue = request.cookies[COOKIE_CSRF];
      const ok =
        typeof origin === 'string' &&
        allowedOrigin(origin) &&
        typeof header === 'string' &&
        typeof cookieValue === 'string' &&
        cookieValue.length > 0 &&
        equalStrings(header, cookieValue);
      if (!ok)
        throw new AppError(
          403,
          'CSRF_FAILED',
          'Forbidden',
          'Cross-site request refused: send X-CSRF-Token from the same origin',
        );
    }
    app.decorate('assertCsrf', assertCsrf);

    // Browser mode: a state-changing request that a browser marked as coming from another site is
    // refused before any route runs, including sign-in itself (login CSRF: being signed in to the
    // attacker's account). Clients that send no Origin (API clients, curl) are not affected.
    if (cookiesOn) {
      app.addHook('onRequest', async (request) => {
        if (SAFE_METHODS.has(request.method)) return;
        const origin = request.headers.origin;
        // "null" is what sandboxed frames and some redirects send: never one of ours.
        if (typeof origin === 'string' && !allowedOrigin(origin)) {
          throw new AppError(
            403,
            'CSRF_FAILED',
            'Forbidden',
            'Cross-site request refused: send X-CSRF-Token from the same origin',
          );
        }
      });
    }

    // Verification failures are security events, but a flood of garbage tokens must not flood the
    // log: at most one event per client, reason and minute on this node.
    const failureSeen = new Map<string, number>();
    const mismatchLogged = new Set<string>();
    function auditFailure(request: FastifyRequest, err: TokenError): void {
      const minute = Math.floor(clock.now().getTime() / 60_000);
      const key = `${request.clientKey}|${err.reason}`;
      if (failureSeen.get(key) === minute) return;
      if (failureSeen.size > 10_000) failureSeen.clear();
      failureSeen.set(key, minute);
      trackEvent(app, request, AUDIT_ACTIONS.tokenVerifyFailed, err.userId, 'failure', {
        reason: err.reason,
        session: err.sessionId,
      });
    }

    // One Set per cached user state, not one per request.
    const permissionSets = new WeakMap<UserTokenState, ReadonlySet<string>>();
    function permissionsOf(user: UserTokenState): ReadonlySet<string> {
      let set = permissionSets.get(user);
      if (!set) {
        set = new Set(user.permissions);
        permissionSets.set(user, set);
      }
      return set;
    }

    app.decorateRequest('actor', null);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const found = tokenOf(request, cookiesOn);
      if (!found) throw unauthorized();
      try {
        if (found.from === 'cookie') assertCsrf(request);
        const claims = await tokens.verify(found.token, 'access');
        const checked = await tokens.check(claims, clientFactsOf(request));
        if (checked.bindingMismatch && !mismatchLogged.has(claims.jti)) {
          if (mismatchLogged.size > 10_000) mismatchLogged.clear();
          mismatchLogged.add(claims.jti);
          trackEvent(app, request, AUDIT_ACTIONS.tokenBindingMismatch, claims.sub, 'failure', {
            session: claims.sid,
            mode: config.TOKEN_BINDING,
          });
        }
        if (claims.scp && !request.routeOptions.config.allowRestricted?.includes(claims.scp)) {
          const [code, detail] = RESTRICTION_CODES[claims.scp];
          throw new AppError(403, code, 'Forbidden', detail);
        }
        const { user } = checked;
        request.actor = {
          userId: user.id,
          roles: user.roles,
          permissions: permissionsOf(user),
          auth: {
            sessionId: claims.sid,
            amr: claims.amr,
            authTime: claims.auth_time,
            restriction: claims.scp ?? null,
            jti: claims.jti,
            exp: claims.exp,
          },
        };
        touchSession(claims.sid);
      } catch (err) {
        if (err instanceof TokenError) auditFailure(request, err);
        throw err;
      }
    });

    app.decorate('requireRecentAuth', async (request: FastifyRequest) => {
      const auth = request.actor?.auth;
      if (!auth) throw unauthorized();
      const age = clock.now().getTime() / 1000 - auth.authTime;
      if (age > config.REAUTH_MAX_AGE) {
        throw new AppError(401, 'REAUTH_REQUIRED', 'Unauthorized', 'Sign in again to confirm this action', {
          headers: {
            'www-authenticate':
              'Bearer error="insufficient_user_authentication", max_age="' + config.REAUTH_MAX_AGE + '"',
          },
        });
      }
    });

    // "Last seen" is written at most once a minute per session and node, off the request path.
    const touched = new Map<string, number>();
    function touchSession(sid: string): void {
      const now = clock.now().getTime();
      if (now - (touched.get(sid) ?? 0) < 60_000) return;
      if (touched.size > 50_000) touched.clear();
      touched.set(sid, now);
      tokens.repo.touchSession(sid, new Date(now)).catch((err: unknown) => app.log.warn({ err }, 'session touch'));
    }
  },
  { name: 'tokens', dependencies: ['users'] },
);

declare module 'fastify' {
  interface FastifyInstance {
    assertCsrf: (request: FastifyRequest) => void;
  }
}

export const KEYS_CHANNEL = 'auth:keys';

function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/** Records an event off the request path; `app.audit.flush()` still waits for it. */
function trackEvent(...args: Parameters<typeof recordEvent>): void {
  const [app] = args;
  const p = recordEvent(...args);
  if (app.hasDecorator('audit')) app.audit.track(p);
}

/** Token security events go through the audit module once it is registered (it comes later). */
export async function recordEvent(
  app: FastifyInstance,
  request: FastifyRequest,
  action: string,
  userId: string | null,
  outcome: 'success' | 'failure',
  metadata: Record<string, unknown>,
): Promise<void> {
  if (!app.hasDecorator('audit')) return;
  try {
    await app.audit.record(userEvent(action, userId, outcome, app.audit.contextOf(request), metadata));
  } catch (err) {
    request.log.warn({ err }, 'audit record failed');
  }
}

export type { TokenFailure };
