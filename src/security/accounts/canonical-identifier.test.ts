/**
 * One identifier per account (docs/ACCOUNT_SECURITY.md): the database lookup, the lockout and the
 * per-account login limit (`login-account`) agree on which spellings of an email name one
 * account. The attack: Unicode spellings of an existing address (case and compatibility variants)
 * that the database resolves to the account while the counters see a new identifier, so each
 * affected letter doubles the guesses. Runs on PGlite and, with TEST_DATABASE_URL/TEST_REDIS_URL,
 * on PostgreSQL and Redis (whose lower() folds "İ" to "i" while JavaScript does not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { strongPassword } from '../../../test/helpers/factories.js';
import { loginAs } from '../../../test/support/accounts/helpers.js';
import { canonicalEmail } from '../../users/email.js';
import { bodyKeyId } from '../shield/policies.js';
import { lockoutKey } from './lockout.js';

const LOCAL = 'kriss.staffing';
const DOMAIN = 'example.test';

/** Spellings that are the same account: ASCII case, and whitespace around (trimmed). */
function asciiSpellings(base: string): string[] {
  return [
    base,
    base.toUpperCase(),
    ` ${base} `,
    `\t${base}`,
    `\u00A0${base}\u3000`, // surrounding Unicode spaces are trimmed like ASCII ones
    base.replace(/\b\w/g, (c) => c.toUpperCase()),
  ];
}

/**
 * Unicode case and compatibility variants: each would be refused by registration. `sub` replaces
 * the first occurrence (or all, with a global pattern) in the local part.
 */
function unicodeSpellings(local: string, domain: string): Record<string, string> {
  const at = (l: string, d = domain, sep = '@') => `${l}${sep}${d}`;
  return {
    'Kelvin sign K U+212A': at(local.replace('k', '\u212A')),
    'long s ſ U+017F': at(local.replace('s', '\u017F')),
    'dotted capital İ U+0130': at(local.replace('i', '\u0130')),
    'dotted capital İ, every i': at(local.replace(/i/g, '\u0130')),
    'dotless ı U+0131': at(local.replace('i', '\u0131')),
    'I + combining dot above': at(local.replace('i', 'I\u0307')),
    'i + combining dot above': at(local.replace('i', 'i\u0307')),
    'fullwidth letters': at(local.replace('kriss', '\uFF4B\uFF52\uFF49\uFF53\uFF53')),
    'fullwidth capitals': at(local.replace('kriss', '\uFF2B\uFF32\uFF29\uFF33\uFF33')),
    'fullwidth @': at(local, domain, '\uFF20'),
    'ligature ﬀ U+FB00': at(local.replace('ff', '\uFB00')),
    'ligature ﬃ U+FB03': at(local.replace('ffi', '\uFB03')),
    'combining acute (decomposed é)': at(local, domain.replace('e', 'e\u0301')),
    'precomposed é': at(local, domain.replace('e', '\u00E9')),
    'German ß': at(local.replace('ss', '\u00DF')),
    'German capital ẞ U+1E9E': at(local.replace('ss', '\u1E9E')),
    'Greek final sigma ς': at(local.replace('ss', '\u03C3\u03C2')),
    'Greek capital sigma Σ': at(local.replace('ss', '\u03A3\u03A3')),
    'Greek kappa κ': at(local.replace('k', '\u03BA')),
    'mathematical bold 𝐤': at(local.replace('k', '\u{1D424}')),
    'mathematical bold 𝐢, every i': at(local.replace(/i/g, '\u{1D422}')),
    'mathematical bold capital 𝐊': at(local.replace('k', '\u{1D40A}')),
    'Cyrillic і U+0456': at(local.replace('i', '\u0456')),
  };
}

function corpus(local: string): { ascii: string[]; unicode: Record<string, string> } {
  return { ascii: asciiSpellings(`${local}@${DOMAIN}`), unicode: unicodeSpellings(local, DOMAIN) };
}

const post = (t: TestApp, url: string, payload: unknown, ip = '127.0.0.1') =>
  t.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, remoteAddress: ip });

/** Registers `email` through the API (EMAIL_VERIFICATION=optional in tests: 201). */
async function register(t: TestApp, email: string, password: string) {
  const res = await post(t, '/api/auth/register', { email, password, name: 'Kriss' });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ user: { id: string } }>().user.id;
}

async function failedChecks(t: TestApp, userId: string): Promise<number> {
  await t.app.audit.flush();
  const rows = await t.deps.db.query<{ n: number }>(
    `select count(*)::int as n from audit_events where action = 'auth.login.failed' and target_id = $1`,
    [userId],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Busy shield limits for the client and registration: only the per-account ones matter here. */
const OPEN_CLIENT_LIMITS = {
  MAIL_POLL_INTERVAL: '0',
  RATE_LIMIT_ENABLED: 'true',
  RATE_LIMIT_PER_MINUTE: '100000',
  RATE_LIMIT_PER_HOUR: '1000000',
  RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
  RATE_LIMIT_LOGIN_PER_HOUR: '1000000',
  RATE_LIMIT_REGISTER_PER_MINUTE: '100000',
  RATE_LIMIT_REGISTER_PER_HOUR: '1000000',
};

describe('the lookup, the lockout and the login limit agree on every spelling', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ ...OPEN_CLIENT_LIMITS, RATE_LIMIT_LOGIN_ACCOUNT_PER_HOUR: '100000' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a spelling reaches the account exactly when it shares its lockout counter and login budget', async () => {
    const local = `${LOCAL}-a`;
    const { ascii, unicode } = corpus(local);
    const userId = await register(t, ascii[0]!, strongPassword());
    const base = ascii[0]!;
    const rows: { spelling: string; account: boolean; counter: boolean; budget: boolean }[] = [];
    for (const spelling of [...ascii, ...Object.values(unicode)]) {
      rows.push({
        spelling,
        account: (await t.app.users.repo.getByEmail(spelling))?.id === userId,
        counter: lockoutKey(spelling) === lockoutKey(base),
        budget: bodyKeyId('email', spelling) === bodyKeyId('email', base),
      });
    }
    // Agreement, spelling by spelling (the database's own lower() is not asked).
    expect(rows.filter((r) => r.account !== r.counter || r.account !== r.budget)).toEqual([]);
    // ASCII case and surrounding spaces are the account; every Unicode variant is not.
    expect(rows.filter((r) => r.account).map((r) => r.spelling)).toEqual(ascii);
    // The database stores the same canonical form the application computes.
    const stored = await t.deps.db.query<{ c: string }>(`select email_canonical as c from users where id = $1`, [
      userId,
    ]);
    expect(stored[0]?.c).toBe(canonicalEmail(base));
  });

  it('login refuses (400) every Unicode spelling, as registration does, before counting anything', async () => {
    const local = `${LOCAL}-b`;
    const { ascii, unicode } = corpus(local);
    const password = strongPassword();
    const userId = await register(t, ascii[0]!, password);
    for (const [name, spelling] of Object.entries(unicode)) {
      const reg = await post(t, '/api/auth/register', { email: spelling, password: strongPassword(), name: 'X' });
      const login = await loginAs(t.app, spelling, password, { ip: '198.51.100.1' });
      expect({ name, register: reg.statusCode, login: login.statusCode }).toEqual({ name, register: 400, login: 400 });
      expect(login.json().code).toBe('VALIDATION_FAILED');
    }
    // Nothing was checked against the account, and no budget was spent.
    expect(await failedChecks(t, userId)).toBe(0);
    for (const spelling of ascii.slice(1)) {
      expect((await post(t, '/api/auth/register', { email: spelling.trim(), password, name: 'X' })).statusCode).toBe(
        409,
      );
    }
  });

  it('locking one spelling locks every spelling: the right password never gets through another', async () => {
    const local = `${LOCAL}-c`;
    const { ascii, unicode } = corpus(local);
    const password = strongPassword();
    const userId = await register(t, ascii[0]!, password);
    // One wrong guess per spelling, each from its own address: at most THRESHOLD are checked.
    const spellings = [...ascii, ...Object.values(unicode)];
    const guesses = await Promise.all(
      spellings.map((s, i) => loginAs(t.app, s, `Wrong-${i}-Harbor-Lantern`, { ip: `203.0.113.${i + 1}` })),
    );
    for (const r of guesses) expect([400, 401, 429]).toContain(r.statusCode);
    expect(await failedChecks(t, userId)).toBeLessThanOrEqual(t.config.LOCKOUT_THRESHOLD);
    // Lock it for sure with the plain spelling, then try the right password in every spelling.
    for (let i = 0; i < t.config.LOCKOUT_THRESHOLD; i++) {
      await loginAs(t.app, ascii[0]!, `Wrong-again-${i}-Harbor-Lantern`, { ip: `192.0.2.${i + 1}` });
    }
    for (const [i, spelling] of spellings.entries()) {
      const res = await loginAs(t.app, spelling, password, { ip: `198.51.100.${i + 1}` });
      expect({ spelling, status: res.statusCode }).toEqual({ spelling, status: res.statusCode === 400 ? 400 : 429 });
      if (res.statusCode === 429) expect(res.json().code).toBe('ACCOUNT_LOCKED');
    }
  });
});

describe('the per-account login limit (login-account) has one budget per account', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ ...OPEN_CLIENT_LIMITS, RATE_LIMIT_LOGIN_ACCOUNT_PER_HOUR: '3', LOCKOUT_THRESHOLD: '100' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('once the budget is spent, no spelling buys a fresh one', async () => {
    const { ascii, unicode } = corpus(`${LOCAL}-d`);
    const password = strongPassword();
    await register(t, ascii[0]!, password);
    for (let i = 0; i < 3; i++) {
      expect(
        (await loginAs(t.app, ascii[0]!, `Wrong-${i}-Harbor-Lantern`, { ip: `203.0.113.${i + 1}` })).statusCode,
      ).toBe(401);
    }
    for (const [i, spelling] of [...ascii, ...Object.values(unicode)].entries()) {
      const res = await loginAs(t.app, spelling, password, { ip: `198.51.100.${i + 1}` });
      expect({ spelling, status: res.statusCode }).toEqual({ spelling, status: res.statusCode === 400 ? 400 : 429 });
      if (res.statusCode === 429) expect(res.json().code).toBe('RATE_LIMITED');
    }
  });
});
