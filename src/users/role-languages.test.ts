/**
 * A role limited to languages names enabled site languages only, and a language a role holds
 * stays: attacked from both sides. The users plugin does not depend on the languages plugin; the
 * languages plugin plugs the check in (`app.users.roles.setLanguageCheck`).
 *
 * - creating or changing a role with a language that is not a site language, or is disabled:
 *   400 LANGUAGE_NOT_ENABLED (the code the rest of the CMS uses), nothing written;
 * - disabling or deleting (even with force) a language a role is limited to: 409
 *   LANGUAGE_HELD_BY_ROLE listing the roles, nothing changed (a content editor must not rewrite
 *   roles, which needs user:manage and a recent sign-in);
 * - a role create racing a disable of its language never leaves a role on a disabled language.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createUser, type TestUser } from '../../test/helpers/factories.js';
import { addLanguage, send } from '../../test/support/languages/helpers.js';
import { usersPlugin } from './plugin.js';

let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.app, { role: 'admin' });
  await addLanguage(t.app, admin, { code: 'es' });
  await addLanguage(t.app, admin, { code: 'fr', enabled: false });
});
afterAll(async () => t.close());

const role = async (name: string) => (await send(t.app, 'GET', `/api/admin/roles/${name}`, { as: admin })).json();
const createRole = (name: string, languages: unknown) =>
  send(t.app, 'POST', '/api/admin/roles', {
    as: admin,
    body: { name, description: 'translator', permissions: ['content:read_any', 'content:write_any'], languages },
  });
const language = async (code: string) =>
  (await send(t.app, 'GET', '/api/admin/languages', { as: admin }))
    .json()
    .items.find((l: { code: string }) => l.code === code);

describe('a role names enabled site languages only', () => {
  it.each([
    ['a tag that is no site language', ['xx'], 'xx'],
    ['a disabled language', ['fr'], 'fr'],
    ['an enabled one beside one that is not', ['es', 'de'], 'de'],
  ])('POST with %s → 400 LANGUAGE_NOT_ENABLED, no role', async (_what, languages, bad) => {
    const res = await createRole('translator-bad', languages);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'LANGUAGE_NOT_ENABLED', language: bad });
    expect((await send(t.app, 'GET', '/api/admin/roles/translator-bad', { as: admin })).statusCode).toBe(404);
  });

  it('PATCH to a language that is not enabled → 400 LANGUAGE_NOT_ENABLED, the role unchanged; to an enabled one → 200', async () => {
    expect((await createRole('translator-x', ['es'])).statusCode).toBe(201);
    for (const languages of [['xx'], ['fr'], ['es', 'zz']]) {
      const res = await send(t.app, 'PATCH', '/api/admin/roles/translator-x', { as: admin, body: { languages } });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('LANGUAGE_NOT_ENABLED');
    }
    expect((await role('translator-x')).languages).toEqual(['es']);
    // A change that names no languages keeps them, unchecked (nothing new is granted).
    const described = await send(t.app, 'PATCH', '/api/admin/roles/translator-x', {
      as: admin,
      body: { description: 'Spanish' },
    });
    expect(described.statusCode).toBe(200);
    expect(described.json().languages).toEqual(['es']);
  });

  it('the users plugin does not depend on the languages plugin (it gets the check through a port)', () => {
    const meta = (usersPlugin as unknown as Record<symbol, { dependencies?: string[] }>)[Symbol.for('plugin-meta')];
    expect(meta?.dependencies).toEqual(['deps']);
  });
});

describe('a language a role holds stays', () => {
  it('disable and delete (with or without force) → 409 LANGUAGE_HELD_BY_ROLE listing the roles; nothing changes', async () => {
    await addLanguage(t.app, admin, { code: 'it' });
    expect((await createRole('translator-it', ['it'])).statusCode).toBe(201);
    expect((await createRole('translator-it-es', ['es', 'it'])).statusCode).toBe(201);
    const off = await send(t.app, 'PATCH', '/api/admin/languages/it', { as: admin, body: { enabled: false } });
    expect(off.statusCode).toBe(409);
    expect(off.json()).toMatchObject({ code: 'LANGUAGE_HELD_BY_ROLE', roles: ['translator-it', 'translator-it-es'] });
    for (const url of ['/api/admin/languages/it', '/api/admin/languages/it?force=true']) {
      const del = await send(t.app, 'DELETE', url, { as: admin });
      expect(del.statusCode).toBe(409);
      expect(del.json()).toMatchObject({ code: 'LANGUAGE_HELD_BY_ROLE', roles: ['translator-it', 'translator-it-es'] });
    }
    expect(await language('it')).toMatchObject({ code: 'it', enabled: true });
    expect((await role('translator-it')).languages).toEqual(['it']);
    expect((await role('translator-it-es')).languages).toEqual(['es', 'it']);

    // Once no role holds it, it goes.
    expect(
      (await send(t.app, 'PATCH', '/api/admin/roles/translator-it', { as: admin, body: { languages: ['es'] } }))
        .statusCode,
    ).toBe(200);
    expect((await send(t.app, 'DELETE', '/api/admin/roles/translator-it-es', { as: admin })).statusCode).toBe(204);
    expect((await send(t.app, 'DELETE', '/api/admin/languages/it', { as: admin })).statusCode).toBe(204);
  });

  it('the CLI path (the service as the operator runs it) refuses the same', async () => {
    await addLanguage(t.app, admin, { code: 'pl' });
    expect((await createRole('translator-pl', ['pl'])).statusCode).toBe(201);
    const by = { actorId: 'system', context: { ip: null, userAgent: null, requestId: null } };
    await expect(t.app.languages.delete(by, 'pl', true)).rejects.toMatchObject({ code: 'LANGUAGE_HELD_BY_ROLE' });
    await expect(t.app.languages.update(by, 'pl', { enabled: false })).rejects.toMatchObject({
      code: 'LANGUAGE_HELD_BY_ROLE',
    });
  });

  it('a role create racing a disable of its language never leaves a role on a disabled language', async () => {
    for (let i = 0; i < 5; i++) {
      const code = ['lt', 'lv', 'et', 'sk', 'sl'][i]!;
      await addLanguage(t.app, admin, { code });
      const [created, disabled] = await Promise.all([
        createRole(`race-${code}`, [code]),
        send(t.app, 'PATCH', `/api/admin/languages/${code}`, { as: admin, body: { enabled: false } }),
      ]);
      // Exactly one of them wins.
      expect([created.statusCode, disabled.statusCode].sort()).toEqual(
        created.statusCode === 201 ? [201, 409] : [200, 400],
      );
      const rows = await t.deps.db.query<{ name: string }>(
        `select r.name from roles r join languages l on l.code = any(r.languages) where not l.enabled`,
      );
      expect(rows).toEqual([]);
    }
  });
});
