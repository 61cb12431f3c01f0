/**
 * Roles for tests: made and granted through the service as the operator would (no actor, no
 * step-up), so a test changes one thing at a time through the API.
 */
import type { FastifyInstance } from 'fastify';
import { createUser, type TestUser } from '../../helpers/factories.js';

/**
 * A role made as the operator would. A role may be limited only to enabled site languages, so
 * the languages it names are added first (as the operator) when the site does not have them yet.
 */
export async function makeRole(
  app: FastifyInstance,
  name: string,
  permissions: string[],
  languages: string[] | null = null,
): Promise<void> {
  if (languages) await ensureLanguages(app, languages);
  await app.users.roles.create(null, { name, description: `${name} (test)`, permissions, languages });
}

/** Adds (enabled, as the operator) each of `codes` the site does not have yet; enables a disabled one. */
export async function ensureLanguages(app: FastifyInstance, codes: readonly string[]): Promise<void> {
  const by = { actorId: 'system', context: { ip: null, userAgent: null, requestId: null } };
  const existing = new Map((await app.languages.list()).map((l) => [l.code, l]));
  for (const code of codes) {
    const language = existing.get(code);
    if (!language) await app.languages.create(by, { code });
    else if (!language.enabled) await app.languages.update(by, code, { enabled: true });
  }
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
