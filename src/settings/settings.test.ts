/**
 * Site settings attacked as each caller would: every route against anonymous, a user, an editor
 * and an admin; hostile bodies (unknown keys, wrong types, out-of-range numbers, header
 * injection, a language that is not enabled); a stale sign-in; a setting pinned by the
 * environment; and each setting's effect where it is read (mails, the TOTP issuer, the contact
 * recipient, the public read's Cache-Control), at once on this node and within 1 s on another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createPortfolio, createUser } from '../../test/helpers/factories.js';
import { secondNode } from '../../test/helpers/tokens.js';
import { mailsTo } from '../../test/support/accounts/helpers.js';
import { addLanguage, cast, send, type Cast } from '../../test/support/languages/helpers.js';
import { patchSettings, setSettings, SETTINGS_URL, within } from '../../test/support/settings/helpers.js';

let t: TestApp;
let c: Cast;

beforeAll(async () => {
  t = await buildTestApp({ PUBLIC_URL: 'https://portfolio.example' });
  c = await cast(t.app);
});
afterAll(async () => {
  await t.close();
});

async function settingsEvents(app: TestApp['app']) {
  await app.audit.flush();
  return app.audit.repo.query({ action: 'settings.updated' }, 100);
}

const savedRows = async () =>
  t.deps.db.query<{ key: string; value: unknown }>(`select key, value from site_settings order by key`);

describe('who may call what', () => {
  it.each([['GET'], ['PATCH']])(
    '%s: anonymous 401, user and editor 403 before the body is looked at',
    async (method) => {
      const body = method === 'PATCH' ? { nonsense: true } : undefined;
      expect((await send(t.app, method as 'GET', SETTINGS_URL, { body })).statusCode).toBe(401);
      for (const who of [c.user, c.editor]) {
        const res = await send(t.app, method as 'GET', SETTINGS_URL, { as: who, body });
        expect(res.statusCode).toBe(403);
        expect(res.json().code).toBe('FORBIDDEN');
      }
    },
  );

  it('an admin reads every setting with its value, the source that won and its variable', async () => {
    const res = await send(t.app, 'GET', SETTINGS_URL, { as: c.admin });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('private, no-store');
    expect(res.json()).toEqual({
      siteName: { value: 'Portfolio', source: 'default', env: null, default: 'Portfolio' },
      contactRecipient: { value: null, source: 'default', env: null, default: null },
      defaultLanguage: { value: 'en', source: 'database', env: null, default: null },
      publicCacheMaxAge: { value: 60, source: 'default', env: 'PUBLIC_CACHE_MAX_AGE', default: 60 },
      privacyNotice: { value: null, source: 'default', env: null, default: null },
    });
  });

  it('is in the OpenAPI document with its schema, problem answers and bearer security', async () => {
    const doc = (await t.app.inject({ url: '/api/openapi.json' })).json<{
      paths: Record<
        string,
        Record<
          string,
          { tags?: string[]; security?: unknown[]; responses: Record<string, unknown>; requestBody?: unknown }
        >
      >;
    }>();
    const ops = doc.paths['/api/admin/settings'];
    expect(Object.keys(ops ?? {}).sort()).toEqual(['get', 'patch']);
    expect(ops?.['patch']?.tags).toEqual(['settings']);
    expect(ops?.['patch']?.security).toEqual([{ bearerAuth: [] }]);
    expect(ops?.['patch']?.requestBody).toBeDefined();
    expect(Object.keys(ops?.['patch']?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '409']),
    );
  });

  it('a change needs a recent sign-in (step-up); a read does not', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    t.clock.advance((t.config.REAUTH_MAX_AGE + 1) * 1000);
    try {
      expect((await send(t.app, 'GET', SETTINGS_URL, { as: admin })).statusCode).toBe(200);
      const res = await patchSettings(t.app, admin, { siteName: 'Stale' });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('REAUTH_REQUIRED');
    } finally {
      t.clock.advance(-(t.config.REAUTH_MAX_AGE + 1) * 1000);
    }
    expect((await savedRows()).find((r) => r.key === 'siteName')).toBeUndefined();
  });
});

describe('hostile bodies change nothing', () => {
  const bad: [string, unknown, string][] = [
    ['an unknown key', { siteName: 'X', isAdmin: true }, 'VALIDATION_FAILED'],
    ['a key of another module', { MFA_ISSUER: 'X' }, 'VALIDATION_FAILED'],
    ['an empty body', {}, 'VALIDATION_FAILED'],
    ['a number as the site name', { siteName: 5 }, 'VALIDATION_FAILED'],
    ['a blank site name', { siteName: '   ' }, 'VALIDATION_FAILED'],
    ['a site name with ":" (the otpauth issuer separator)', { siteName: 'Evil: Bank' }, 'VALIDATION_FAILED'],
    [
      'a site name with a line break (mail subject injection)',
      { siteName: 'Site\r\nBcc: x@evil.test' },
      'VALIDATION_FAILED',
    ],
    ['a 65-character site name', { siteName: 'x'.repeat(65) }, 'VALIDATION_FAILED'],
    ['a 1 MB site name', { siteName: 'x'.repeat(1_000_000) }, ''],
    ['a recipient that is no email', { contactRecipient: 'not-an-email' }, 'SETTING_INVALID'],
    ['two recipients', { contactRecipient: 'a@example.test, b@example.test' }, 'SETTING_INVALID'],
    [
      'a recipient with a header (LF passes the body guard)',
      { contactRecipient: 'a@example.test\nBcc: b@evil.test' },
      'SETTING_INVALID',
    ],
    ['a 255-character recipient', { contactRecipient: `${'a'.repeat(243)}@example.test` }, 'VALIDATION_FAILED'],
    ['a max-age as text', { publicCacheMaxAge: '60' }, 'VALIDATION_FAILED'],
    ['a fractional max-age', { publicCacheMaxAge: 1.5 }, 'VALIDATION_FAILED'],
    ['a negative max-age', { publicCacheMaxAge: -1 }, 'VALIDATION_FAILED'],
    ['a max-age over a day', { publicCacheMaxAge: 86_401 }, 'VALIDATION_FAILED'],
    ['a default language that does not exist', { defaultLanguage: 'zz' }, 'LANGUAGE_NOT_ENABLED'],
    ['a default language that is no tag', { defaultLanguage: 'english!' }, 'VALIDATION_FAILED'],
    ['a null default language', { defaultLanguage: null }, 'VALIDATION_FAILED'],
  ];

  it.each(bad)('%s: 4xx problem+json, nothing saved, nothing audited', async (_name, body, code) => {
    const before = (await settingsEvents(t.app)).length;
    const res = await patchSettings(t.app, c.admin, body);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (code) expect(res.json().code).toBe(code);
    expect(await savedRows()).toEqual([]);
    expect((await settingsEvents(t.app)).length).toBe(before);
    expect(t.app.settings.siteName()).toBe('Portfolio');
  });

  it('a disabled language cannot become the default, and a refused part undoes the whole change', async () => {
    await addLanguage(t.app, c.admin, { code: 'eo', enabled: false });
    const res = await patchSettings(t.app, c.admin, { siteName: 'Half done', defaultLanguage: 'eo' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'LANGUAGE_NOT_ENABLED', language: 'eo' });
    expect(await savedRows()).toEqual([]);
    expect(t.app.settings.siteName()).toBe('Portfolio');
    expect(await t.app.languages.defaultLanguage()).toBe('en');
  });
});

describe('each setting where it is read', () => {
  it('the site name: mail subjects and signatures, and the TOTP issuer, at once', async () => {
    const body = await setSettings(t.app, c.admin, { siteName: '  Ada Lima — Work  ' });
    expect(body['siteName']).toMatchObject({ value: 'Ada Lima — Work', source: 'database' });
    const someone = await createUser(t.app);
    const reset = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password/forgot',
      payload: { email: someone.email },
    });
    expect(reset.statusCode).toBeLessThan(300);
    const [mail] = await mailsTo(t.app, someone.email, 'password_reset');
    expect(mail?.subject).toBe('Reset your Ada Lima — Work password');
    expect(mail?.text).toContain('— Ada Lima — Work');
    const enroll = await t.app.inject({
      method: 'POST',
      url: '/api/auth/mfa/totp/enroll',
      headers: someone.auth,
      payload: { password: someone.password },
    });
    expect(new URL(enroll.json<{ otpauthUri: string }>().otpauthUri).searchParams.get('issuer')).toBe(
      'Ada Lima — Work',
    );
  });

  it('the contact recipient: every contact message goes there instead of the owner; null gives it back', async () => {
    const owner = await createUser(t.app);
    const p = await createPortfolio(t.app, owner, { visibility: 'public', published: true });
    const contact = () =>
      t.app.inject({
        method: 'POST',
        url: `/api/public/portfolios/${p.slug}/contact`,
        payload: { name: 'Grace', email: 'grace@example.test', message: 'Hello' },
      });
    const body = await setSettings(t.app, c.admin, { contactRecipient: 'Inbox@Example.TEST' });
    expect(body['contactRecipient']).toMatchObject({ value: 'inbox@example.test', source: 'database' });
    expect((await contact()).statusCode).toBe(202);
    expect(await mailsTo(t.app, 'inbox@example.test', 'contact_message')).toHaveLength(1);
    expect(await mailsTo(t.app, owner.email, 'contact_message')).toHaveLength(0);
    const back = await setSettings(t.app, c.admin, { contactRecipient: null });
    expect(back['contactRecipient']).toEqual({ value: null, source: 'default', env: null, default: null });
    expect((await contact()).statusCode).toBe(202);
    expect(await mailsTo(t.app, owner.email, 'contact_message')).toHaveLength(1);
  });

  it('the public cache lifetime: the Cache-Control max-age of public reads, at once', async () => {
    const owner = await createUser(t.app);
    const p = await createPortfolio(t.app, owner, { visibility: 'public', published: true });
    const maxAge = async () =>
      (await t.app.inject({ url: `/api/public/portfolios/${p.slug}` })).headers['cache-control'];
    expect(await maxAge()).toMatch(/^public, max-age=60,/);
    await setSettings(t.app, c.admin, { publicCacheMaxAge: 5 });
    expect(t.app.settings.publicCacheMaxAge()).toBe(5);
    expect(await maxAge()).toMatch(/^public, max-age=5,/);
    await setSettings(t.app, c.admin, { publicCacheMaxAge: null });
    expect(await maxAge()).toMatch(/^public, max-age=60,/);
  });

  it('the default language: set through app.languages (one source of truth), enabled languages only', async () => {
    await addLanguage(t.app, c.admin, { code: 'es' });
    const body = await setSettings(t.app, c.admin, { defaultLanguage: 'ES' });
    expect(body['defaultLanguage']).toMatchObject({ value: 'es', source: 'database' });
    expect(await t.app.languages.defaultLanguage()).toBe('es');
    const list = (await send(t.app, 'GET', '/api/public/languages')).json().items as {
      code: string;
      isDefault: boolean;
    }[];
    expect(list[0]).toMatchObject({ code: 'es', isDefault: true });
    expect(list.filter((l) => l.isDefault)).toHaveLength(1);
    await t.app.audit.flush();
    const [langEvent] = await t.app.audit.repo.query({ action: 'content.language.updated', targetId: 'es' }, 1);
    expect(langEvent?.metadata).toMatchObject({ isDefault: true, previousDefault: 'en' });
    await setSettings(t.app, c.admin, { defaultLanguage: 'en' });
    expect(await t.app.languages.defaultLanguage()).toBe('en');
  });

  it('each change is audited with before and after; a change to the same value is not an event', async () => {
    await setSettings(t.app, c.admin, { siteName: 'First' });
    const before = (await settingsEvents(t.app)).length;
    await setSettings(t.app, c.admin, { siteName: 'Second', publicCacheMaxAge: 30 });
    await setSettings(t.app, c.admin, { siteName: 'Second' });
    const events = await settingsEvents(t.app);
    expect(events.length).toBe(before + 1);
    const event = events.find((e) => JSON.stringify(e.metadata).includes('Second'));
    expect(event).toMatchObject({ actor: c.admin.id, outcome: 'success' });
    expect(event?.metadata).toEqual({
      changes: {
        siteName: { before: 'First', after: 'Second' },
        publicCacheMaxAge: { before: 60, after: 30, sourceBefore: 'default', sourceAfter: 'database' },
      },
    });
    await setSettings(t.app, c.admin, { siteName: null, publicCacheMaxAge: null });
    expect(await savedRows()).toEqual([]);
  });
});

describe('environment variables win', () => {
  it('PUBLIC_CACHE_MAX_AGE pins the cache lifetime: GET says env, PATCH is 409 naming it, a saved row is ignored', async () => {
    const e = await buildTestApp({ PUBLIC_CACHE_MAX_AGE: '100', MFA_ISSUER: 'Env Issuer' });
    try {
      const admin = await createUser(e.app, { role: 'admin' });
      // A row saved earlier (before the variable was set) is kept but does not win.
      await e.deps.db.query(
        `insert into site_settings (key, value, updated_at) values ('publicCacheMaxAge', '5', now())`,
      );
      await e.app.settings.load();
      const view = (await send(e.app, 'GET', SETTINGS_URL, { as: admin })).json();
      expect(view.publicCacheMaxAge).toEqual({ value: 100, source: 'env', env: 'PUBLIC_CACHE_MAX_AGE', default: 60 });
      expect(e.app.settings.publicCacheMaxAge()).toBe(100);
      const res = await patchSettings(e.app, admin, { siteName: 'Not applied', publicCacheMaxAge: 10 });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({
        code: 'SETTING_PINNED_BY_ENV',
        setting: 'publicCacheMaxAge',
        env: 'PUBLIC_CACHE_MAX_AGE',
      });
      expect(e.app.settings.siteName()).toBe('Portfolio');
      // MFA_ISSUER, when set, stays the authenticator issuer; the site name still names the mails.
      await setSettings(e.app, admin, { siteName: 'Site Name' });
      expect(e.app.settings.totpIssuer()).toBe('Env Issuer');
      expect(e.app.settings.siteName()).toBe('Site Name');
    } finally {
      await e.close();
    }
  });
});

describe('two nodes', () => {
  it('a change on one node is seen on the other within 1 s (KV channel), with no database poll in between', async () => {
    const b = await secondNode(t.deps);
    try {
      const owner = await createUser(t.app);
      const p = await createPortfolio(t.app, owner, { visibility: 'public', published: true });
      expect(b.app.settings.siteName()).toBe(t.app.settings.siteName());
      await setSettings(t.app, c.admin, { siteName: 'Seen Everywhere', publicCacheMaxAge: 7 });
      expect(t.app.settings.siteName()).toBe('Seen Everywhere');
      const seen = await within(1_000, async () => {
        const res = await b.app.inject({ url: `/api/public/portfolios/${p.slug}` });
        return (
          b.app.settings.siteName() === 'Seen Everywhere' && /max-age=7,/.test(String(res.headers['cache-control']))
        );
      });
      expect(seen).toBe(true);
      // Back on B, then seen on A.
      await setSettings(b.app, c.admin, { siteName: null, publicCacheMaxAge: null });
      expect(
        await within(
          1_000,
          () => t.app.settings.siteName() === 'Portfolio' && t.app.settings.publicCacheMaxAge() === 60,
        ),
      ).toBe(true);
    } finally {
      await b.close();
    }
  });
});
