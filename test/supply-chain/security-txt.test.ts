/**
 * RFC 9116: a security.txt at /.well-known/security.txt, served as text/plain; charset=utf-8, with
 * Contact (one or more) and exactly one Expires in RFC 3339 form, less than a year ahead. An expired
 * file tells researchers the contact may be dead, so production refuses to start with one and the
 * server warns 30 days before. The served file is parsed here by the RFC's own rules.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/config/index.js';
import {
  expiresInstant,
  parseSecurityTxt,
  securityTxtExpiryWarning,
  securityTxtProductionProblems,
} from '../../src/http/security-txt-rfc.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

const DAY = 86_400_000;

describe('GET /.well-known/security.txt (defaults outside production)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('is text/plain; charset=utf-8 and valid by RFC 9116', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/security.txt' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    const report = parseSecurityTxt(res.body, {
      now: t.clock.now(),
      allowHttp: true, // the test server's PUBLIC_URL is http://127.0.0.1
      fetchedFrom: `${t.app.publicUrl.href}/.well-known/security.txt`,
    });
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    const names = report.fields.map((f) => f.name);
    expect(names).toEqual(['Contact', 'Expires', 'Preferred-Languages', 'Canonical', 'Policy']);
    for (const f of report.fields) expect(f.name).toMatch(/^[A-Za-z0-9-]+$/);
    const expires = new Date(report.fields.find((f) => f.name === 'Expires')!.value);
    expect(expires.getTime()).toBeGreaterThan(t.clock.now().getTime());
    expect(expires.getTime() - t.clock.now().getTime()).toBeLessThanOrEqual(366 * DAY);
    expect(report.fields.find((f) => f.name === 'Contact')?.value).toBe('mailto:security@127.0.0.1');
  });

  it('/security.txt redirects permanently to the well-known location', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/security.txt' });
    expect(res.statusCode).toBe(301);
    expect(res.headers.location).toBe('/.well-known/security.txt');
  });

  it('publishes SECURITY.md as the default Policy', async () => {
    const txt = (await t.app.inject({ method: 'GET', url: '/.well-known/security.txt' })).body;
    const policy = /^Policy: (.+)$/m.exec(txt)?.[1];
    expect(policy).toBe(`${t.app.publicUrl.href}/security-policy`);
    const res = await t.app.inject({ method: 'GET', url: '/security-policy' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(res.body).toBe(await readFile('SECURITY.md', 'utf8'));
  });
});

describe('GET /.well-known/security.txt (configured, production-like)', () => {
  let t: TestApp;
  const expires = new Date(Date.now() + 200 * DAY).toISOString();
  beforeAll(async () => {
    t = await buildTestApp({
      PUBLIC_URL: 'https://api.example.com',
      SECURITY_CONTACT: 'mailto:security@example.com, https://example.com/report',
      SECURITY_TXT_EXPIRES: expires,
      SECURITY_POLICY_URL: 'https://example.com/security-policy',
      SECURITY_ENCRYPTION_URL: 'https://example.com/pgp-key.txt',
      SECURITY_ACKNOWLEDGMENTS_URL: 'https://example.com/thanks',
      SECURITY_PREFERRED_LANGUAGES: 'en, pt-BR',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves every configured field, https only, by the strict rules', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/security.txt' });
    const report = parseSecurityTxt(res.body, {
      now: t.clock.now(),
      fetchedFrom: 'https://api.example.com/.well-known/security.txt',
    });
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    const get = (name: string) => report.fields.filter((f) => f.name === name).map((f) => f.value);
    expect(get('Contact')).toEqual(['mailto:security@example.com', 'https://example.com/report']);
    expect(get('Expires')).toEqual([expires]);
    expect(get('Encryption')).toEqual(['https://example.com/pgp-key.txt']);
    expect(get('Acknowledgments')).toEqual(['https://example.com/thanks']);
    expect(get('Preferred-Languages')).toEqual(['en, pt-BR']);
    expect(get('Canonical')).toEqual(['https://api.example.com/.well-known/security.txt']);
    expect(get('Policy')).toEqual(['https://example.com/security-policy']);
  });
});

describe('the RFC 9116 parser catches what a broken file gets wrong', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const errorsOf = (text: string) => parseSecurityTxt(text, { now }).errors;

  it('requires Contact and Expires', () => {
    expect(errorsOf('Policy: https://example.com/p\n')).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Contact is required'),
        expect.stringContaining('Expires is required'),
      ]),
    );
  });

  it('refuses a second Expires or Preferred-Languages', () => {
    const text =
      'Contact: mailto:a@example.com\nExpires: 2026-09-01T00:00:00.000Z\nexpires: 2026-10-01T00:00:00.000Z\n' +
      'Preferred-Languages: en\nPreferred-Languages: de\n';
    const errors = errorsOf(text);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Expires appears 2 times/),
        expect.stringMatching(/Preferred-Languages appears 2 times/),
      ]),
    );
  });

  it('refuses an Expires that is not RFC 3339, or has passed', () => {
    expect(errorsOf('Contact: mailto:a@example.com\nExpires: 31/12/2026\n')[0]).toMatch(/not an RFC 3339 date-time/);
    expect(errorsOf('Contact: mailto:a@example.com\nExpires: 2026-05-31T23:59:59Z\n')[0]).toMatch(/has passed/);
  });

  it('refuses http web URIs, non-URIs, and lines that are not fields', () => {
    const errors = errorsOf(
      'Contact: http://example.com/report\nContact: not a uri\nExpires: 2026-09-01T00:00:00Z\nthis is not a field\n',
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Contact must use https, mailto, tel, got "http:"/),
        expect.stringMatching(/"not a uri" is not a URI/),
        expect.stringMatching(/line 4: not a "Name: value" field/),
      ]),
    );
  });

  it('warns about unknown fields and an Expires more than a year ahead', () => {
    const report = parseSecurityTxt('Contact: mailto:a@example.com\nExpires: 2028-01-01T00:00:00Z\nFoo: bar\n', {
      now,
    });
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([
      expect.stringMatching(/unknown field "Foo"/),
      expect.stringMatching(/more than a year ahead/),
    ]);
  });
});

describe('SECURITY_* configuration', () => {
  const prod = {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://api.example',
    JWT_SECRET: 'x'.repeat(48),
    SECURITY_CONTACT: 'mailto:security@example.com',
  };
  const problemKeys = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // Only the SECURITY_* keys: other modules add their own production requirements.
      return err.problems.filter((p) => p.key.startsWith('SECURITY_')).map((p) => `${p.key}: ${p.reason}`);
    }
  };

  it('production refuses to start without a contact and an expiry', () => {
    const problems = problemKeys({
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://api.example',
      JWT_SECRET: 'x'.repeat(48),
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SECURITY_CONTACT: must be set/),
        expect.stringMatching(/^SECURITY_TXT_EXPIRES: must be set/),
      ]),
    );
  });

  it('production refuses an expired security.txt; development only warns', () => {
    const past = new Date(Date.now() - DAY).toISOString();
    expect(problemKeys({ ...prod, SECURITY_TXT_EXPIRES: past })).toEqual([
      expect.stringMatching(/^SECURITY_TXT_EXPIRES: .* has passed/),
    ]);
    const dev = loadConfig({ NODE_ENV: 'development', SECURITY_TXT_EXPIRES: past });
    expect(securityTxtExpiryWarning(dev)).toMatch(/expired/);
  });

  it('refuses an Expires more than a year ahead, a bad date, and an http contact', () => {
    expect(problemKeys({ SECURITY_TXT_EXPIRES: new Date(Date.now() + 400 * DAY).toISOString() })[0]).toMatch(
      /at most a year ahead/,
    );
    expect(problemKeys({ SECURITY_TXT_EXPIRES: '2027-02-31' })[0]).toMatch(/not a real date/);
    expect(problemKeys({ SECURITY_TXT_EXPIRES: 'next year' })[0]).toMatch(/ISO 8601/);
    expect(problemKeys({ SECURITY_CONTACT: 'http://example.com/report' })[0]).toMatch(
      /^SECURITY_CONTACT: .*schemes mailto, https, tel/,
    );
    expect(problemKeys({ SECURITY_PREFERRED_LANGUAGES: 'en,,english!' })[0]).toMatch(/not a language tag/);
  });

  it('a date-only Expires means midnight UTC and is served in RFC 3339 form', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    expect(expiresInstant('2026-12-31', now)).toBe('2026-12-31T00:00:00.000Z');
    expect(expiresInstant('2026-12-31T12:00:00+02:00', now)).toBe('2026-12-31T10:00:00.000Z');
  });

  it('the boot warning fires under 30 days, not before', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    expect(securityTxtExpiryWarning({ SECURITY_TXT_EXPIRES: '2026-06-20T00:00:00.000Z' }, now)).toBe(
      'security.txt expires in 19 days (2026-06-20T00:00:00.000Z): renew SECURITY_TXT_EXPIRES',
    );
    expect(securityTxtExpiryWarning({ SECURITY_TXT_EXPIRES: '2026-08-01T00:00:00.000Z' }, now)).toBeUndefined();
    expect(securityTxtExpiryWarning({ SECURITY_TXT_EXPIRES: undefined }, now)).toBeUndefined();
  });

  it('production checks use the given clock', () => {
    const config = {
      ...loadConfig({}),
      NODE_ENV: 'production' as const,
      SECURITY_CONTACT: ['mailto:security@example.com'],
    };
    config.SECURITY_TXT_EXPIRES = new Date(Date.now() + 100 * DAY).toISOString();
    expect(securityTxtProductionProblems(config, new Date(Date.now() + 99 * DAY))).toEqual([]);
    expect(securityTxtProductionProblems(config, new Date(Date.now() + 101 * DAY))).toEqual([
      { key: 'SECURITY_TXT_EXPIRES', reason: expect.stringMatching(/has passed/) },
    ]);
  });
});
