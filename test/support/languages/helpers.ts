/** Test support for site languages and site texts (src/content/languages, src/content/texts). */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createUser, type TestUser } from '../../helpers/factories.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** app.inject with JSON and an optional user (PUT included); a string body is sent as it is (raw JSON). */
export function send(
  app: FastifyInstance,
  method: Method,
  url: string,
  options: { as?: TestUser | undefined; body?: unknown; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    headers: { ...(options.as ? options.as.auth : {}), ...options.headers },
    ...(options.body === undefined
      ? {}
      : {
          payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
          headers: { 'content-type': 'application/json', ...(options.as ? options.as.auth : {}), ...options.headers },
        }),
  });
}

export interface Cast {
  user: TestUser;
  editor: TestUser;
  admin: TestUser;
}

/** One user of each role. */
export async function cast(app: FastifyInstance): Promise<Cast> {
  return {
    user: await createUser(app),
    editor: await createUser(app, { role: 'editor' }),
    admin: await createUser(app, { role: 'admin' }),
  };
}

/** Adds a language as an admin; throws unless 201. */
export async function addLanguage(
  app: FastifyInstance,
  admin: TestUser,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const res = await send(app, 'POST', '/api/admin/languages', { as: admin, body });
  if (res.statusCode !== 201) throw new Error(`language create failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Sets a site text as an admin; throws unless 200. */
export async function putText(
  app: FastifyInstance,
  admin: TestUser,
  key: string,
  translations: Record<string, string>,
) {
  const res = await send(app, 'PUT', `/api/admin/texts/${key}`, { as: admin, body: { translations } });
  if (res.statusCode !== 200) throw new Error(`text put failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Enables site languages directly through the service (as the operator): setup for content tests. */
export async function enableLanguages(app: FastifyInstance, ...codes: string[]): Promise<void> {
  const by = { actorId: 'system', context: { ip: null, userAgent: null, requestId: null } };
  for (const code of codes) await app.languages.create(by, { code });
}
