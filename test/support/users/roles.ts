/**
 * Roles for tests: made and granted through the service as the operator would (no actor, no
 * step-up), so a test changes one thing at a time through the API.
 */
import type { FastifyInstance } from 'fastify';
import { createUser, type TestUser } from '../../helpers/factories.js';

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

/** The usual cast of content tests: an owner, another user, an editor, and a translator limited to es. */
export async function contentCast(
  app: FastifyInstance,
): Promise<{ owner: TestUser; other: TestUser; editor: TestUser; translator: TestUser }> {
  const owner = await createUser(app);
  const other = await createUser(app);
  const editor = await createUser(app, { role: 'editor' });
  const translator = await createUser(app);
  await makeRole(app, 'translator-es', ['content:read_any', 'content:write_any'], ['es']);
  await giveRoles(app, translator.id, ['translator-es']);
  return { owner, other, editor, translator };
}
