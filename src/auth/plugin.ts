import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../http/errors.js';
import type { Actor } from '../users/policy.js';
import { AuthService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
  }
}

/** The authenticated actor; only call on routes that ran `authenticate`. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError(401, 'UNAUTHORIZED', 'Unauthorized', 'Authentication is required');
  return request.actor;
}

/**
 * Password sign-in and registration (`app.auth`). Tokens, sessions and the `authenticate` hook
 * come from src/security/tokens.
 */
export const authPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('auth', new AuthService(app, app.users));
    app.decorateRequest('issuedPair', null);
    // Browser mode: a pair issued in this request becomes cookies, and the tokens leave the body
    // so page scripts (and an XSS) never see them.
    app.addHook('preSerialization', async (request, reply, payload) => {
      const pair = request.issuedPair;
      if (!pair || !app.deps.config.AUTH_COOKIES || reply.statusCode !== 200) return payload;
      app.setAuthCookies(reply, pair);
      if (payload && typeof payload === 'object') {
        const { accessToken: _a, refreshToken: _r, ...rest } = payload as Record<string, unknown>;
        return rest;
      }
      return payload;
    });
  },
  { name: 'auth', dependencies: ['users', 'tokens'] },
);
