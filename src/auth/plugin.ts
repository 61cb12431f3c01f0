import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../http/errors.js';
import type { Actor } from '../users/policy.js';
import { AuthService } from './service.js';
import { TokenService } from './tokens.js';

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService;
    auth: AuthService;
    /** onRequest hook for protected routes: sets request.actor or answers 401. */
    authenticate: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    actor: Actor | null;
  }
}

/** The authenticated actor; only call on routes that ran `authenticate`. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError(401, 'UNAUTHORIZED', 'Unauthorized', 'Authentication is required');
  return request.actor;
}

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header === '') {
    throw new AppError(401, 'UNAUTHORIZED', 'Unauthorized', 'Authentication is required', {
      headers: { 'www-authenticate': 'Bearer' },
    });
  }
  const match = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(header);
  if (!match?.[1]) {
    throw new AppError(401, 'INVALID_TOKEN', 'Unauthorized', 'Send the access token as "Authorization: Bearer <token>"', {
      headers: { 'www-authenticate': 'Bearer error="invalid_request"' },
    });
  }
  return match[1];
}

export const authPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, clock, secrets } = app.deps;
    const tokens = new TokenService(
      {
        secret: secrets.jwt,
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        accessTtl: config.ACCESS_TOKEN_TTL,
        refreshTtl: config.REFRESH_TOKEN_TTL,
      },
      clock,
    );
    app.decorate('tokens', tokens);
    app.decorate('auth', new AuthService(app.users, tokens));
    app.decorateRequest('actor', null);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const claims = await tokens.verify(bearerToken(request), 'access');
      // The user is read on every request so that disabling an account or changing roles takes
      // effect at once, not when the token expires.
      const user = await app.users.repo.getAuth(claims.sub);
      if (!user || user.disabled) {
        throw new AppError(401, 'INVALID_TOKEN', 'Unauthorized', 'The token is invalid', {
          headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        });
      }
      request.actor = { userId: user.id, roles: user.roles, permissions: new Set(user.permissions) };
    });
  },
  { name: 'auth', dependencies: ['users'] },
);
