import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { TestUser } from './helpers/factories.js';

/** The five child kinds with a minimal valid body each, for tests that walk all of them. */
export const CHILD_SAMPLES: readonly { path: string; body: Record<string, unknown>; patch: Record<string, unknown> }[] = [
  { path: 'projects', body: { title: 'Compiler' }, patch: { title: 'Compiler v2' } },
  { path: 'sections', body: { kind: 'about', title: 'About me' }, patch: { body: '# Hello' } },
  { path: 'experiences', body: { title: 'Engineer', startYear: 2019 }, patch: { organization: 'Acme' } },
  { path: 'skills', body: { name: 'TypeScript' }, patch: { level: 4 } },
  { path: 'links', body: { url: 'https://github.com/example' }, patch: { label: 'GitHub' } },
];

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** app.inject with JSON and an optional user; returns the raw response. */
export function call(
  app: FastifyInstance,
  method: Method,
  url: string,
  options: { as?: TestUser | undefined; body?: unknown } = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    headers: options.as ? options.as.auth : {},
    ...(options.body === undefined ? {} : { payload: options.body as Record<string, unknown> }),
  });
}

/** Creates a child through the API and returns its JSON; throws on anything but 201. */
export async function createChild(
  app: FastifyInstance,
  as: TestUser,
  portfolioId: string,
  path: string,
  body: Record<string, unknown>,
): Promise<{ id: string } & Record<string, unknown>> {
  const res = await call(app, 'POST', `/api/portfolios/${portfolioId}/${path}`, { as, body });
  if (res.statusCode !== 201) throw new Error(`create ${path} failed: ${res.statusCode} ${res.body}`);
  return res.json();
}
