import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { UsersService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    users: UsersService;
  }
}

export const usersPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('users', new UsersService(app.deps.db, app.deps.config.PASSWORD_MIN_SCORE));
  },
  { name: 'users', dependencies: ['deps'] },
);
