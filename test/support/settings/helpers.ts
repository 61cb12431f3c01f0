/** Test support for the site settings (src/settings/). */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { TestUser } from '../../helpers/factories.js';
import { send } from '../languages/helpers.js';

export const SETTINGS_URL = '/api/admin/settings';

export function patchSettings(app: FastifyInstance, as: TestUser, body: unknown): Promise<LightMyRequestResponse> {
  return send(app, 'PATCH', SETTINGS_URL, { as, body });
}

/** PATCH as an admin; throws unless 200. */
export async function setSettings(app: FastifyInstance, admin: TestUser, body: Record<string, unknown>) {
  const res = await patchSettings(app, admin, body);
  if (res.statusCode !== 200) throw new Error(`settings patch failed: ${res.statusCode} ${res.body}`);
  return res.json<Record<string, { value: unknown; source: string; env: string | null }>>();
}

/** Polls until `done()` holds, at most `ms` (the cross-node promise is 1 s). */
export async function within(ms: number, done: () => boolean | Promise<boolean>): Promise<boolean> {
  const started = Date.now();
  for (;;) {
    if (await done()) return true;
    if (Date.now() - started > ms) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
