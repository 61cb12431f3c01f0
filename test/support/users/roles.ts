/**
 * Roles for tests: made and granted through the service as the operator would (no actor, no
 * step-up), so a test changes one thing at a time through the API.
 */
import type { FastifyInstance } from 'fastify';
import type { TestUser } from '../../helpers/factories.js';

export async function makeRole(
  app: FastifyInstance,
  name: string,
  permissions: string[],
  languages: string[] | null = null,
): Promise<void> {
  await app.users.roles.create(null, { name, description: `${name} (test)`, permissions, languages });
}

export async function giveRoles(app: FastifyInstance, userId: string, roles: string[]): Promise<void> {
  await app.users.update(userId, { roles });
}

/** What an existing token is allowed, as /api/auth/me reports it. */
export async function permissionsOf(app: FastifyInstance, user: TestUser): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: '/api/auth/me', headers: user.auth });
  if (res.statusCode !== 200) throw new Error(`/me answered ${res.statusCode}`);
  return res.json<{ user: { permissions: string[] } }>().user.permissions;
}
