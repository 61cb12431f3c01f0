import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { authRoutes } from './routes.js';
import { AuthService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
  }
}

/**
 * Sign-in (`app.auth`): the password check, the login gates in their declared order
 * (./gates.ts), and `completeLogin`, where every way of signing in ends. Tokens, sessions and
 * the `authenticate` hook come from src/security/tokens; the login route itself is ./login.ts.
 */
export const authPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('auth', new AuthService(app, app.users));
    app.decorateRequest('issuedPair', null);
    // Browser mode (AUTH_COOKIES=true, or the console's `X-Auth-Mode: browser`, or a request
    // authenticated by cookie; src/security/tokens/cookies.ts): a pair issued in this request
    // becomes cookies, and the tokens leave the body so page scripts (and an XSS) never see them.
    app.addHook('preSerialization', async (request, reply, payload) => {
      const pair = request.issuedPair;
      if (!pair || !request.browserMode || reply.statusCode !== 200) return payload;
      app.setAuthCookies(reply, pair);
      if (payload && typeof payload === 'object') {
        const { accessToken: _a, refreshToken: _r, ...rest } = payload as Record<string, unknown>;
        return rest;
      }
      return payload;
    });
  },
  { name: 'auth', dependencies: ['deps', 'users', 'tokens', 'authenticate', 'audit'] },
);

/**
 * The sign-in routes (register, login, refresh, me). The login route reaches the lockout
 * (`app.accounts`) and so comes after it; the gates are filled in by then.
 */
export const authRoutesPlugin = fp(async (app: FastifyInstance) => app.register(authRoutes), {
  name: 'auth-routes',
  dependencies: ['deps', 'users', 'tokens', 'authenticate', 'audit', 'auth', 'accounts'],
});
