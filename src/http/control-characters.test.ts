/**
 * NUL and control characters: one rule (src/http/validation.ts) for every body string and key at
 * any depth, every path parameter and every query value. An attacker used to get a 500 (and a log
 * line holding the argon2 hash of the password they sent) from a NUL in a registration name, a
 * title or a login email: PostgreSQL refuses U+0000 in text. Now it is a 400 VALIDATION_FAILED
 * before any SQL, on every route; multiline text (tab, LF, CR) keeps working. And whatever makes
 * the database fail, its parameters, query text and row values stay out of the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import {
  createPortfolio,
  createUser,
  strongPassword,
  uniqueEmail,
  type TestUser,
} from '../../test/helpers/factories.js';
import { captureLogs, leaks } from '../../test/support/logs/capture.js';
import { multipart, png } from '../../test/support/uploads/helpers.js';
import { serializeError } from './log-redaction.js';
import { findForbiddenCharacter, hasForbiddenCharacter } from './validation.js';

/** Every kind of refused character, as an attacker would put it in a JSON string. */
const HOSTILE = {
  nul: 'a\u0000b',
  soh: 'a\u0001b',
  escape: 'a\u001b[31mb',
  vt: 'a\u000bb',
  del: 'a\u007fb',
  csi: 'a\u009b31mb',
  loneHigh: 'a\ud800b',
  loneLow: 'a\udc00b',
};

const capture = captureLogs();
let t: TestApp;
let admin: TestUser;
let owner: TestUser;
let portfolio: { id: string; slug: string };

beforeAll(async () => {
  t = await buildTestApp({ EMAIL_VERIFICATION: 'optional', UPLOAD_SCAN: 'off' }, { logger: capture.logger() });
  admin = await createUser(t.app, { role: 'admin' });
  owner = await createUser(t.app);
  portfolio = await createPortfolio(t.app, owner, { visibility: 'public', published: true });
});
afterAll(async () => {
  await t?.close();
});

function expectRefused(res: { statusCode: number; body: string }, path?: string): void {
  expect(res.statusCode, res.body).toBe(400);
  const body = JSON.parse(res.body) as { code: string; errors: { path: string; message: string }[] };
  expect(body.code).toBe('VALIDATION_FAILED');
  expect(body.errors[0]?.message).toMatch(/control characters/);
  if (path !== undefined) expect(body.errors[0]?.path).toBe(path);
}

describe('the rule', () => {
  it('refuses NUL, C0 (but tab, LF, CR in bodies), DEL, C1 and lone surrogates', () => {
    for (const [name, value] of Object.entries(HOSTILE)) {
      expect(hasForbiddenCharacter(value, 'body'), name).toBe(true);
      expect(hasForbiddenCharacter(value, 'querystring'), name).toBe(true);
    }
    const multiline = 'first line\nsecond\r\n\tindented — ünïcödé 🎉 \u200b\u202e';
    expect(hasForbiddenCharacter(multiline, 'body')).toBe(false);
    // A URL has no multiline text.
    expect(hasForbiddenCharacter('a\nb', 'params')).toBe(true);
    expect(hasForbiddenCharacter('a\tb', 'querystring')).toBe(true);
  });

  it('finds the string at any depth, in arrays and in keys', () => {
    expect(findForbiddenCharacter({ a: [{ b: 'ok' }, { c: ['x', 'y\u0000'] }] }, 'body')).toBe('body/a/1/c/1');
    expect(findForbiddenCharacter({ translations: { 'e\u0000s': { title: 'x' } } }, 'body')).toBe(
      'body/translations/e\\u0000s',
    );
    // A lone surrogate in a key is named, not echoed (and naming it must not throw).
    expect(findForbiddenCharacter({ ['k\ud800']: 1 }, 'body')).toBe('body/k\\ud800');
    expect(findForbiddenCharacter({ a: 1, b: null, c: true, d: ['fine\n'] }, 'body')).toBeUndefined();
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 50_000; i++) deep = [deep];
    expect(findForbiddenCharacter(deep, 'body')).toMatch(/^body(\/0)+$/);
  });
});

describe('every JSON string, on every route', () => {
  it('registration: name, email and password with a control character are 400, not 500', async () => {
    for (const [kind, value] of Object.entries(HOSTILE)) {
      for (const field of ['name', 'email', 'password'] as const) {
        const payload = {
          email: uniqueEmail('nul'),
          password: strongPassword(),
          name: 'Ada',
          [field]:
            field === 'email' ? `${value}@example.test` : field === 'password' ? `${strongPassword()}${value}` : value,
        };
        const res = await t.app.inject({ method: 'POST', url: '/api/auth/register', payload });
        expect(res.statusCode, `${kind} in ${field}: ${res.body}`).toBe(400);
        expectRefused(res, `body/${field}`);
      }
    }
  });

  it('login with a NUL in the email (no format check there) is 400, not 500', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: `${owner.email}\u0000`, password: owner.password },
    });
    expectRefused(res, 'body/email');
  });

  it('content: a title, a nested translation and a translation key', async () => {
    const url = `/api/portfolios/${portfolio.id}`;
    expectRefused(
      await t.app.inject({ method: 'PATCH', url, headers: owner.auth, payload: { title: 'T\u0000' } }),
      'body/title',
    );
    expectRefused(
      await t.app.inject({
        method: 'PATCH',
        url,
        headers: owner.auth,
        payload: { translations: { es: { title: 'ok', summary: 'x\u0001' } } },
      }),
      'body/translations/es/summary',
    );
    expectRefused(
      await t.app.inject({
        method: 'PATCH',
        url,
        headers: owner.auth,
        payload: { translations: { 'e\u0000s': { title: 'x' } } },
      }),
    );
    expectRefused(
      await t.app.inject({
        method: 'POST',
        url: '/api/portfolios',
        headers: owner.auth,
        payload: { title: 'x\u0000', slug: 'nul-slug' },
      }),
    );
  });

  it('a lone surrogate or NUL in a body key, sent as raw JSON escapes, is 400, not 500', async () => {
    for (const key of ['\\ud800', '\\udfff', '\\u0000', 'a\\ud83d']) {
      const res = await t.app.inject({
        method: 'PATCH',
        url: `/api/portfolios/${portfolio.id}`,
        headers: { ...owner.auth, 'content-type': 'application/json' },
        payload: `{"translations":{"${key}":{"title":"x"}}}`,
      });
      expect(res.statusCode, `${key}: ${res.body}`).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
  });

  it('multiline text with tab, LF and CR still works and round-trips', async () => {
    const summary = 'Line one\nLine two\r\n\tindented — ünïcödé 🎉';
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/portfolios/${portfolio.id}`,
      headers: owner.auth,
      payload: { summary },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().summary).toBe(summary);
  });

  it('path parameters and query values: a slug or a lang with %00 is 400', async () => {
    expectRefused(
      await t.app.inject({ method: 'GET', url: `/api/public/portfolios/${portfolio.slug}%00` }),
      'params/slug',
    );
    expectRefused(
      await t.app.inject({ method: 'GET', url: `/api/public/portfolios/${portfolio.slug}?lang=%00` }),
      'querystring/lang',
    );
    expectRefused(await t.app.inject({ method: 'GET', url: `/api/public/portfolios/${portfolio.slug}?lang=es%0A` }));
    expectRefused(await t.app.inject({ method: 'GET', url: `/api/portfolios?cursor=%01`, headers: owner.auth }));
  });

  it('a sweep of every route: a NUL in a path parameter or in a body key is refused by the one rule', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const failures: string[] = [];
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops).filter((m) => ['get', 'post', 'patch', 'delete'].includes(m))) {
        const attempts: { url: string; payload?: string }[] = [];
        if (path.includes('{')) attempts.push({ url: path.replace(/\{[^}]+\}/g, 'a%00b') });
        if (method === 'post' || method === 'patch')
          attempts.push({ url: path.replace(/\{[^}]+\}/g, portfolio.id), payload: '{"\\u0000":"x"}' });
        for (const a of attempts) {
          const res = await t.app.inject({
            method: method.toUpperCase() as 'GET',
            url: a.url,
            headers: { ...admin.auth, ...(a.payload ? { 'content-type': 'application/json' } : {}) },
            ...(a.payload ? { payload: a.payload } : {}),
          });
          checked++;
          const body = res.body.startsWith('{')
            ? (JSON.parse(res.body) as { code?: string; errors?: { message: string }[] })
            : {};
          // Routes that refuse multipart-only bodies (415) or multi-part-only routes never reach SQL with it.
          if (res.statusCode === 415) continue;
          if (
            res.statusCode !== 400 ||
            body.code !== 'VALIDATION_FAILED' ||
            !/control characters/.test(body.errors?.[0]?.message ?? '')
          ) {
            failures.push(
              `${method.toUpperCase()} ${a.url} ${a.payload ?? ''} → ${res.statusCode} ${res.body.slice(0, 160)}`,
            );
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
    expect(failures).toEqual([]);
  }, 60_000);

  it('multipart field values and file names with control characters are refused or cleaned, never a 500', async () => {
    const forms: Record<string, string>[] = [
      { category: 'gallery\u0000' },
      { category: 'gallery', isDefaultResume: 'tr\u0000ue' },
      { 'cat\u0001egory': 'gallery' },
    ];
    for (const fields of forms) {
      const { body, headers } = multipart(fields, { name: 'a\u0000b.png', type: 'image/png', data: await png() });
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/portfolios/${portfolio.id}/media`,
        headers: { ...owner.auth, ...headers },
        payload: body,
      });
      expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, res.body).toBeLessThan(500);
    }
    const { body, headers } = multipart(
      { category: 'gallery' },
      { name: 'a\u0000b\u001b.png', type: 'image/png', data: await png() },
    );
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/portfolios/${portfolio.id}/media`,
      headers: { ...owner.auth, ...headers },
      payload: body,
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    expect(JSON.stringify(res.json())).not.toMatch(/\\u000[01b]/);
  });
});

describe('database errors in the log', () => {
  it('no request above logged a control character raw or a 500', () => {
    const text = capture.text();
    expect(capture.lines.length).toBeGreaterThan(50);
    expect(text).not.toContain('"level":50');
    expect(text).not.toMatch(/\$argon2/);
  });

  it('a failing insert logs neither the argon2 hash, the row nor the statement (pg and PGlite)', async () => {
    const logs = captureLogs();
    const app = await buildTestApp({ EMAIL_VERIFICATION: 'optional' }, { logger: logs.logger('info') });
    try {
      // A constraint the app does not expect: the insert fails inside the database, with the
      // password hash among its parameters (PGlite: err.params) and in the failing row (pg: err.detail).
      await app.deps.db.exec(`alter table users add constraint no_mallory check (name <> 'Mallory')`);
      const email = uniqueEmail('mallory');
      const password = strongPassword();
      const res = await app.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { email, password, name: 'Mallory' },
      });
      expect(res.statusCode).toBe(500);
      const text = logs.text();
      expect(text).toContain('request failed');
      expect(text).toContain('"sqlState":"23514"');
      expect(text).not.toMatch(/\$argon2/);
      expect(text).not.toContain('insert into users');
      expect(leaks(text, [email, password])).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('the error serializer strips statement, parameters and quoted values from real driver errors', async () => {
    const secret = 'Secret-Token-Value-1234567890abcdef';
    const err = await t.deps.db
      .query('select $1::uuid as id, $2::text as t', [secret, 'other-param-value'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const wrapped = new Error('request failed while loading', { cause: err });
    const out = JSON.stringify([
      serializeError(err),
      serializeError(wrapped),
      serializeError(new AggregateError([err])),
    ]);
    expect(out).toContain('22P02');
    expect(out).not.toContain(secret);
    expect(out).not.toContain('other-param-value');
    expect(out).not.toContain('select $1');
  });
});
