/**
 * Browser mode: the token pair as httpOnly cookies, and CSRF protection for cookie-authenticated
 * state changes (double submit plus an Origin check). On for every sign-in with AUTH_COOKIES=true;
 * otherwise for a request that asks for it with `X-Auth-Mode: browser` from our own origin (the
 * web console, whatever AUTH_COOKIES says for API clients), and for a request that already
 * authenticates with our cookies (a browser keeps getting cookies, never tokens in a body).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, httpErrors } from '../../http/errors.js';
import { ACCESS_COOKIE } from '../../http/request-identity.js';
import type { IssuedPair } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Browser mode: sets (or clears, with null) the auth cookies on a reply. */
    setAuthCookies: (reply: FastifyReply, pair: IssuedPair | null) => void;
    /** Cookie-authenticated state changes: 403 CSRF_FAILED unless from our own pages. */
    assertCsrf: (request: FastifyRequest) => void;
  }
  interface FastifyRequest {
    /**
     * This request is a browser's: a token pair it is issued becomes cookies (never body fields)
     * and a remembered device a cookie. AUTH_COOKIES=true, or `X-Auth-Mode: browser` on a
     * state-changing request from our own origin, or a request authenticated by our cookies.
     */
    browserMode: boolean;
  }
}

export const COOKIE_ACCESS = ACCESS_COOKIE;
export const COOKIE_REFRESH = '__Secure-refresh';
export const COOKIE_CSRF = '__Host-csrf';
export const CSRF_HEADER = 'x-csrf-token';
/** The console's request for browser mode (`X-Auth-Mode: browser`), honoured from our own origin only. */
export const AUTH_MODE_HEADER = 'x-auth-mode';
export const AUTH_MODE_BROWSER = 'browser';
const REFRESH_COOKIE_PATH = '/api/auth';

export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function csrfFailed(): AppError {
  return new AppError(
    403,
    'CSRF_FAILED',
    'Forbidden',
    'Cross-site request refused: send X-CSRF-Token from the same origin',
  );
}

function equalStrings(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Where a request says it comes from: its Origin, else the origin of its Referer. */
function requestOrigin(request: FastifyRequest): string | undefined {
  const { origin, referer } = request.headers;
  if (origin !== undefined) return origin;
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/** Decorates `setAuthCookies` and `assertCsrf`, and refuses cross-site state changes early. */
export function installBrowserCookies(app: FastifyInstance): void {
  const { config } = app.deps;
  const cookiesOn = config.AUTH_COOKIES;
  // Our own origin is read per request from app.publicUrl: its port is known once the server listens.
  const corsOrigins = new Set(config.CORS_ORIGINS);
  const allowedOrigin = (origin: string) => origin === app.publicUrl.origin || corsOrigins.has(origin);

  app.decorateRequest('browserMode', false);

  app.decorate('setAuthCookies', (reply: FastifyReply, pair: IssuedPair | null) => {
    // API clients (no browser mode) get no Set-Cookie at all, not even a clearing one.
    if (!cookiesOn && !reply.request.browserMode) return;
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
  app.decorate('assertCsrf', (request: FastifyRequest): void => {
    if (SAFE_METHODS.has(request.method)) return;
    const origin = requestOrigin(request);
    const header = request.headers[CSRF_HEADER];
    const cookieValue = request.cookies[COOKIE_CSRF];
    const ok =
      typeof origin === 'string' &&
      allowedOrigin(origin) &&
      typeof header === 'string' &&
      typeof cookieValue === 'string' &&
      cookieValue.length > 0 &&
      equalStrings(header, cookieValue);
    if (!ok) throw csrfFailed();
  });

  // `X-Auth-Mode: browser` (the web console): browser mode for this request whatever AUTH_COOKIES
  // says, but only for a state-changing request whose Origin (or Referer) is exactly our own
  // origin (not CORS_ORIGINS: the console is served by this server). Anything else naming the
  // header is refused, so another site can never obtain a cookie sign-in (login CSRF): it could
  // not send the header without a CORS preflight anyway, and the Origin check does not rely on it.
  app.addHook('onRequest', async (request) => {
    if (cookiesOn) request.browserMode = true;
    const mode = request.headers[AUTH_MODE_HEADER];
    if (mode === undefined || SAFE_METHODS.has(request.method)) return;
    if (mode !== AUTH_MODE_BROWSER) {
      throw httpErrors.validation(`${AUTH_MODE_HEADER} must be "${AUTH_MODE_BROWSER}"`, [
        { path: `headers/${AUTH_MODE_HEADER}`, message: `must be "${AUTH_MODE_BROWSER}"` },
      ]);
    }
    const origin = requestOrigin(request);
    if (origin !== app.publicUrl.origin) throw csrfFailed();
    request.browserMode = true;
  });

  // Browser mode: a state-changing request that a browser marked as coming from another site is
  // refused before any route runs, including sign-in itself (login CSRF: being signed in to the
  // attacker's account). Clients that send no Origin (API clients, curl) are not affected.
  if (cookiesOn) {
    app.addHook('onRequest', async (request) => {
      if (SAFE_METHODS.has(request.method)) return;
      const origin = request.headers.origin;
      // "null" is what sandboxed frames and some redirects send: never one of ours.
      if (typeof origin === 'string' && !allowedOrigin(origin)) throw csrfFailed();
    });
  }
}
