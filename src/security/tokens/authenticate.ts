/**
 * `app.authenticate` (the onRequest hook every protected route runs), `requireRecentAuth` for
 * sensitive actions, browser cookies with CSRF (./cookies.ts), and the security events of token
 * checks (verification failures, binding mismatches) in the audit log.
 *
 * Registered after the shield: a blocked or rate-limited client is refused before its token is
 * even looked at.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, httpErrors } from '../../http/errors.js';
import { bearerTokenOf, clientFactsOf } from '../../http/request-identity.js';
import { actorPermissions } from '../../users/policy.js';
import { AUDIT_ACTIONS } from '../audit/actions.js';
import type { Restriction } from './claims.js';
import { installBrowserCookies } from './cookies.js';
import { trackEvent } from './events.js';
import type { UserTokenState } from './repository.js';
import { TokenError } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook for protected routes: sets request.actor or answers 401/403. */
    authenticate: (request: FastifyRequest) => Promise<void>;
    /** After `authenticate`: 401 REAUTH_REQUIRED when the sign-in is older than REAUTH_MAX_AGE. */
    requireRecentAuth: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyContextConfig {
    /** Restricted tokens (e.g. MFA enrollment only) may call this route. */
    allowRestricted?: readonly Restriction[];
  }
}

const RESTRICTION_CODES: Record<Restriction, [string, string]> = {
  mfa_enrollment: ['MFA_ENROLLMENT_REQUIRED', 'Enroll a second factor before using the API'],
  password_change: ['PASSWORD_CHANGE_REQUIRED', 'Change your password before using the API'],
};

/** At most one event per client, reason and minute on this node: garbage must not flood the log. */
function failureAuditor(app: FastifyInstance) {
  const { clock } = app.deps;
  const failureSeen = new Map<string, number>();
  return (request: FastifyRequest, err: TokenError): void => {
    const minute = Math.floor(clock.now().getTime() / 60_000);
    const key = `${request.clientKey}|${err.reason}`;
    if (failureSeen.get(key) === minute) return;
    if (failureSeen.size > 10_000) failureSeen.clear();
    failureSeen.set(key, minute);
    trackEvent(app, request, AUDIT_ACTIONS.tokenVerifyFailed, err.userId, 'failure', {
      reason: err.reason,
      session: err.sessionId,
    });
  };
}

/** "Last seen" is written at most once a minute per session and node, off the request path. */
function sessionToucher(app: FastifyInstance) {
  const { clock } = app.deps;
  const touched = new Map<string, number>();
  return (sid: string): void => {
    const now = clock.now().getTime();
    if (now - (touched.get(sid) ?? 0) < 60_000) return;
    if (touched.size > 50_000) touched.clear();
    touched.set(sid, now);
    app.tokens.repo.touchSession(sid, new Date(now)).catch((err: unknown) => app.log.warn({ err }, 'session touch'));
  };
}

export const authenticatePlugin = fp(
  async (app: FastifyInstance) => {
    const { config, clock } = app.deps;
    const tokens = app.tokens;
    installBrowserCookies(app);

    const auditFailure = failureAuditor(app);
    const touchSession = sessionToucher(app);
    const mismatchLogged = new Set<string>();
    // Computed once per cached user state, not once per request. A role change drops the cached
    // state on every node (the revocation cache's `user` message), so the next request rereads it.
    const permissionSets = new WeakMap<UserTokenState, ReturnType<typeof actorPermissions>>();
    function permissionsOf(user: UserTokenState): ReturnType<typeof actorPermissions> {
      let held = permissionSets.get(user);
      if (!held) {
        held = actorPermissions(user);
        permissionSets.set(user, held);
      }
      return held;
    }

    app.decorateRequest('actor', null);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      // Our access cookie is read in every mode: it exists only where a browser sign-in set it
      // (AUTH_COOKIES=true, or the console's X-Auth-Mode: browser), and it never works without
      // the CSRF check on a state change.
      const found = bearerTokenOf(request, true);
      if (!found) throw httpErrors.unauthorized();
      try {
        // A malformed header is a bad token, answered exactly like any other bad token.
        if (found.malformed) throw new TokenError('malformed');
        if (found.from === 'cookie') {
          app.assertCsrf(request);
          // A pair issued to a cookie-authenticated request (a forced password change) is cookies too.
          request.browserMode = true;
        }
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
        const held = permissionsOf(user);
        request.actor = {
          userId: user.id,
          roles: user.roles,
          permissions: held.permissions,
          languagePermissions: held.languagePermissions,
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
      if (!auth) throw httpErrors.unauthorized();
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
  },
  { name: 'authenticate', dependencies: ['deps', 'tokens', 'audit', 'shield'] },
);
