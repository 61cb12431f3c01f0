/**
 * The data export (issue 19, item 1; docs/PRIVACY.md "Export"), attacked as a user would: the
 * archive must hold every object of a randomised fixture and nothing of another account or any
 * secret; the download link must refuse another account, a changed signature, a used or expired
 * link, and give the archive to one of two concurrent downloads; the job must survive a restart.
 * Runs on PGlite + memory KV, and on PostgreSQL + Redis with `source /tmp/testenv.sh`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../app.js';
import { buildTestApp, type TestApp } from '../../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../../test/helpers/factories.js';
import { enableLanguages } from '../../../../test/support/languages/helpers.js';
import { enrollTotp } from '../../../../test/support/mfa/helpers.js';
import {
  exportOf,
  exportStatus,
  pathOf,
  readZip,
  requestExport,
  seeded,
} from '../../../../test/support/privacy/helpers.js';
import { png, upload, uploadTestApp } from '../../../../test/support/uploads/helpers.js';
import { EXPORT_CLAIM_MS, EXPORT_RETENTION_MS } from './service.js';

const CHILDREN = {
  projects: (r: ReturnType<typeof seeded>) => ({ title: r.word(), description: r.word() }),
  sections: (r: ReturnType<typeof seeded>) => ({ kind: 'custom', title: r.word(), body: r.word() }),
  experiences: (r: ReturnType<typeof seeded>) => ({
    title: r.word(),
    organization: r.word(),
    startYear: 2000 + r.int(0, 20),
  }),
  skills: (r: ReturnType<typeof seeded>) => ({ name: r.word() }),
  links: (r: ReturnType<typeof seeded>) => ({ url: `https://${r.word()}.example.org/`, label: r.word() }),
} as const;
type Kind = keyof typeof CHILDREN;
const TEXT_FIELD: Record<Kind, string> = {
  projects: 'title',
  sections: 'title',
  experiences: 'title',
  skills: 'name',
  links: 'label',
};
const LANGS = ['es', 'fr', 'de'];

interface Fixture {
  portfolios: Map<
    string,
    {
      translations: Record<string, unknown>;
      children: Map<string, { kind: Kind; translations: Record<string, unknown> }>;
    }
  >;
  media: Map<string, string>;
}

/** A random number of portfolios, children of each kind, translations and media, made through the API. */
async function randomFixture(app: FastifyInstance, user: TestUser, seed: number): Promise<Fixture> {
  const r = seeded(seed);
  const fixture: Fixture = { portfolios: new Map(), media: new Map() };
  const portfolioCount = r.int(1, 3);
  for (let p = 0; p < portfolioCount; p++) {
    const translations = Object.fromEntries(
      LANGS.slice(0, r.int(0, LANGS.length)).map((l) => [l, { title: `${l}-${r.word()}` }]),
    );
    const portfolio = await createPortfolio(app, user, {
      title: r.word(),
      visibility: 'public',
      published: true,
      translations,
    });
    const children = new Map<string, { kind: Kind; translations: Record<string, unknown> }>();
    for (const kind of Object.keys(CHILDREN) as Kind[]) {
      const count = r.int(0, 3);
      for (let c = 0; c < count; c++) {
        const childTranslations = Object.fromEntries(
          LANGS.slice(0, r.int(0, LANGS.length)).map((l) => [l, { [TEXT_FIELD[kind]]: `${l}-${r.word()}` }]),
        );
        const res = await app.inject({
          method: 'POST',
          url: `/api/portfolios/${portfolio.id}/${kind}`,
          headers: user.auth,
          payload: { ...CHILDREN[kind](r), translations: childTranslations },
        });
        expect(res.statusCode, res.body).toBe(201);
        children.set(res.json<{ id: string }>().id, { kind, translations: childTranslations });
      }
    }
    fixture.portfolios.set(portfolio.id, { translations, children });
    const mediaCount = r.int(0, 2);
    for (let m = 0; m < mediaCount; m++) {
      const res = await upload(
        app,
        user,
        { portfolioId: portfolio.id },
        {
          name: `${r.word()}.png`,
          type: 'image/png',
          data: await png(20 + r.int(0, 40), 20 + r.int(0, 40)),
        },
      );
      expect(res.statusCode, res.body).toBe(202);
      const media = res.json<{ id: string; status: string }>();
      expect(media.status).toBe('available');
      fixture.media.set(media.id, portfolio.id);
    }
  }
  return fixture;
}

async function contact(app: FastifyInstance, slug: string, message: string): Promise<void> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/public/portfolios/${slug}/contact`,
    payload: { name: 'Visitor', email: 'visitor@example.org', message },
  });
  expect(res.statusCode, res.body).toBe(202);
}

/** Every string anywhere in the archive (data.json and the files), for "never in the archive" checks. */
function archiveText(entries: Map<string, Buffer>): string {
  return [...entries.values()].map((b) => b.toString('latin1')).join('\n');
}

type Json = Record<string, unknown> & { id: string };

describe('the archive (randomised fixture)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await uploadTestApp({ PRIVACY_EXPORT_POLL_MS: '0' });
    await enableLanguages(t.app, ...LANGS);
  });
  afterAll(async () => t.close());

  const seed = Number(process.env['EXPORT_SEED'] ?? Date.now() % 1_000_000);
  it(`holds every object the user owns, with all translations and the served files, and nothing of another user (seed ${seed})`, async () => {
    const owner = await createUser(t.app, { name: `Owner ${randomBytes(3).toString('hex')}` });
    const other = await createUser(t.app, { name: `Other ${randomBytes(3).toString('hex')}` });
    const mine = await randomFixture(t.app, owner, seed);
    const theirs = await randomFixture(t.app, other, seed + 1);
    const firstSlug = (
      await t.deps.db.query<{ slug: string }>(`select slug from portfolios where id = $1`, [
        [...mine.portfolios.keys()][0],
      ])
    )[0]?.slug as string;
    const theirSlug = (
      await t.deps.db.query<{ slug: string }>(`select slug from portfolios where id = $1`, [
        [...theirs.portfolios.keys()][0],
      ])
    )[0]?.slug as string;
    const myMessage = `hello owner ${randomBytes(6).toString('hex')}`;
    const theirMessage = `hello other ${randomBytes(6).toString('hex')}`;
    await contact(t.app, firstSlug, myMessage);
    await contact(t.app, theirSlug, theirMessage);

    const entries = await exportOf(t.app, owner);
    const data = JSON.parse((entries.get('data.json') as Buffer).toString('utf8')) as {
      format: string;
      profile: Json & { email: string };
      portfolios: (Json & Record<Kind, Json[]> & { translations: unknown })[];
      media: (Json & { file: string | null; served: { sha256: string } })[];
      contactMessages: (Json & { message: string })[];
      sessions: Json[];
      auditEvents: { action: string }[];
    };
    expect(data.format).toBe('portfolio-backend.export');
    expect(data.profile).toMatchObject({ id: owner.id, email: owner.email, name: owner.name });

    // Exactly the owner's portfolios, each with exactly its children and every translation.
    expect(new Set(data.portfolios.map((p) => p.id))).toEqual(new Set(mine.portfolios.keys()));
    for (const p of data.portfolios) {
      const expected = mine.portfolios.get(p.id);
      expect(p.translations).toEqual(expected?.translations);
      const got = new Map<string, { kind: Kind; translations: unknown }>();
      for (const kind of Object.keys(CHILDREN) as Kind[])
        for (const c of p[kind]) got.set(c.id, { kind, translations: c['translations'] });
      expect(got).toEqual(expected?.children);
    }

    // Media metadata, and each served file's bytes as served (the sha256 of the stored variant).
    expect(new Map(data.media.map((m) => [m.id, m['portfolio_id']]))).toEqual(mine.media);
    for (const m of data.media) {
      expect(m.file).toBe(`media/${m.id}.png`);
      const bytes = entries.get(m.file as string) as Buffer;
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(m.served.sha256);
    }
    const files = [...entries.keys()].filter((n) => n !== 'data.json').sort();
    expect(files).toEqual(data.media.map((m) => m.file).sort());

    expect(data.contactMessages.map((m) => m.message)).toEqual([myMessage]);
    expect(data.sessions.length).toBeGreaterThan(0);
    expect(data.auditEvents.some((e) => e.action === 'auth.login.succeeded')).toBe(true);

    // Nothing of the other account, anywhere in the archive.
    const text = archiveText(entries);
    const foreign = [
      other.id,
      other.email,
      other.name,
      theirMessage,
      ...theirs.portfolios.keys(),
      ...[...theirs.portfolios.values()].flatMap((p) => [...p.children.keys()]),
      ...theirs.media.keys(),
    ];
    for (const value of foreign) expect(text.includes(value), `archive holds ${value}`).toBe(false);
  }, 180_000);

  it('never holds a secret: password hash, TOTP secret, backup codes, token hashes, passkey keys', async () => {
    const user = await createUser(t.app);
    const { secret, backupCodes } = await enrollTotp(t.app, t.clock, user);
    // The enrollment is recent: a fresh sign-in (with the code) gives a token with a new session.
    const entries = await exportOf(t.app, user);
    const text = archiveText(entries);
    const data = JSON.parse((entries.get('data.json') as Buffer).toString('utf8')) as {
      mfa: { totp: { enrolled: boolean; confirmed: boolean }; backupCodes: { total: number; remaining: number } };
    };
    expect(data.mfa.totp).toMatchObject({ enrolled: true, confirmed: true });
    expect(data.mfa.backupCodes.remaining).toBe(backupCodes.length);

    const db = t.deps.db;
    const secrets = [
      secret,
      ...backupCodes,
      ...(await db.query<{ v: string }>(`select password_hash as v from users where id = $1`, [user.id])).map(
        (r) => r.v,
      ),
      ...(
        await db.query<{ v: string }>(`select secret_ciphertext as v from mfa_totp where user_id = $1`, [user.id])
      ).map((r) => r.v),
      ...(
        await db.query<{ v: string }>(`select code_hash as v from mfa_backup_codes where user_id = $1`, [user.id])
      ).map((r) => r.v),
      ...(await db.query<{ v: string }>(`select fgp as v from refresh_tokens where user_id = $1`, [user.id])).map(
        (r) => r.v,
      ),
      ...(await db.query<{ v: string }>(`select jti::text as v from refresh_tokens where user_id = $1`, [user.id])).map(
        (r) => r.v,
      ),
      ...(
        await db.query<{ v: string }>(`select token_hash as v from trusted_devices where user_id = $1`, [user.id])
      ).map((r) => r.v),
      ...(
        await db.query<{ v: string }>(`select token_hash as v from one_time_tokens where user_id = $1`, [user.id])
      ).map((r) => r.v),
      user.accessToken,
      user.refreshToken,
    ];
    expect(secrets.length).toBeGreaterThan(backupCodes.length + 2);
    for (const s of secrets) expect(text.includes(s), `archive holds a secret (${s.slice(0, 6)}…)`).toBe(false);
    for (const key of ['password_hash', 'passwordHash', 'secret_ciphertext', 'code_hash', 'token_hash', 'public_key'])
      expect(text.includes(key), key).toBe(false);
  }, 120_000);
});

describe('the download link', () => {
  let t: TestApp;
  let owner: TestUser;
  let other: TestUser;
  beforeAll(async () => {
    t = await buildTestApp({ PRIVACY_EXPORT_POLL_MS: '0', PRIVACY_EXPORT_LINK_TTL: '60' });
    owner = await createUser(t.app);
    other = await createUser(t.app);
    await createPortfolio(t.app, owner);
  });
  afterAll(async () => t.close());

  async function ready(user: TestUser): Promise<{ id: string; url: string }> {
    const id = await requestExport(t.app, user);
    await t.app.privacyExport.tick();
    const status = await exportStatus(t.app, user, id);
    expect(status.status).toBe('ready');
    return { id, url: status.url as string };
  }

  /** A new sign-in (after the clock moved past the access token's lifetime). */
  async function relogin(user: TestUser): Promise<TestUser> {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: user.email, password: user.password },
    });
    expect(res.statusCode, res.body).toBe(200);
    const { accessToken, refreshToken } = res.json<{ accessToken: string; refreshToken: string }>();
    return { ...user, accessToken, refreshToken, auth: { authorization: `Bearer ${accessToken}` } };
  }

  const get = (url: string, user: TestUser) => t.app.inject({ method: 'GET', url: pathOf(url), headers: user.auth });

  it('needs a recent sign-in to ask, and mails the requester when it is ready', async () => {
    t.clock.advance((t.config.REAUTH_MAX_AGE + 1) * 1000);
    const stale = await t.app.inject({ method: 'POST', url: '/api/account/export', headers: owner.auth });
    expect(stale.statusCode).toBe(401);
    expect(stale.json().code).toBe('REAUTH_REQUIRED');
    owner = await createUser(t.app, { email: `fresh-${owner.email}` });
    await createPortfolio(t.app, owner);
    other = await createUser(t.app);
    const { id } = await ready(owner);
    const mails = await t.deps.db.query<{ template: string; text_body: string }>(
      `select template, text_body from mail_outbox where to_address = $1 and template = 'privacy_export_ready'`,
      [owner.email],
    );
    expect(mails).toHaveLength(1);
    // The link itself is never mailed (it is short-lived and single use).
    expect(mails[0]?.text_body).not.toContain(id);
  }, 120_000);

  it("refuses another user's link (404), a tampered signature or id (404), and someone else's status (404)", async () => {
    const { id, url } = await ready(owner);
    const theirs = await get(url, other);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(theirs.json().code).toBe('EXPORT_LINK_INVALID');

    const u = new URL(url);
    const sig = u.searchParams.get('sig') as string;
    const flipped = `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BA' : 'AA'}`;
    for (const tampered of [
      url.replace(`sig=${sig}`, `sig=${flipped}`),
      url.replace(/expires=(\d+)/, (_m, e: string) => `expires=${Number(e) + 3600}`),
      url.replace(`sig=${sig}`, 'sig='),
      url.replace(id, (await ready(other)).id),
    ]) {
      const res = await get(tampered, owner);
      expect(res.statusCode, tampered).toBe(404);
      expect(res.json().code).toBe('EXPORT_LINK_INVALID');
    }
    const status = await t.app.inject({ method: 'GET', url: `/api/account/exports/${id}`, headers: other.auth });
    expect(status.statusCode).toBe(404);
    expect(status.json().code).toBe('EXPORT_NOT_FOUND');
    // Still unused: the owner's genuine link works.
    expect((await get(url, owner)).statusCode).toBe(200);
  });

  it('works once: a used link is 410, and a new status has no link', async () => {
    const { id, url } = await ready(owner);
    expect((await get(url, owner)).statusCode).toBe(200);
    const again = await get(url, owner);
    expect(again.statusCode).toBe(410);
    expect(again.json().code).toBe('EXPORT_LINK_INVALID');
    const status = await exportStatus(t.app, owner, id);
    expect(status).toMatchObject({ status: 'downloaded', url: null });
  });

  it('of two concurrent downloads, exactly one gets the archive', async () => {
    const { url } = await ready(owner);
    const answers = await Promise.all([get(url, owner), get(url, owner), get(url, owner)]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 410, 410]);
    const ok = answers.find((a) => a.statusCode === 200);
    expect(readZip(ok?.rawPayload as Buffer).has('data.json')).toBe(true);
  });

  it('an expired link is 410; a fresh status gives a new one', async () => {
    const { id, url } = await ready(owner);
    t.clock.advance(61_000);
    const late = await get(url, owner);
    expect(late.statusCode).toBe(410);
    expect(late.json().code).toBe('EXPORT_LINK_INVALID');
    const fresh = await exportStatus(t.app, owner, id);
    expect((await get(fresh.url as string, owner)).statusCode).toBe(200);
  });

  it('archives are deleted after 7 days: the link is then 410 and the blob is gone', async () => {
    const { id } = await ready(owner);
    const key = (
      await t.deps.db.query<{ k: string }>(`select archive_key as k from privacy_exports where id = $1`, [id])
    )[0]?.k;
    expect(key).toBe(`privacy-exports/${id}.zip`);
    const url = (await exportStatus(t.app, owner, id)).url as string;
    t.clock.advance(EXPORT_RETENTION_MS + 1000);
    owner = await relogin(owner);
    other = await relogin(other);
    expect(await t.app.privacyExport.deleteExpiredArchives()).toBeGreaterThanOrEqual(1);
    expect((await exportStatus(t.app, owner, id)).status).toBe('expired');
    expect((await get(url, owner)).statusCode).toBe(410);
    const rows = await t.deps.db.query(
      `select 1 from privacy_exports where archive_key is not null and (downloaded_at is not null or expires_at <= $1)`,
      [t.clock.now()],
    );
    expect(rows).toHaveLength(0);
  });

  it("an admin's export of a user: the admin gets the link, the user cannot use it", async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const res = await t.app.inject({ method: 'POST', url: `/api/admin/users/${owner.id}/export`, headers: admin.auth });
    expect(res.statusCode, res.body).toBe(202);
    const { id } = res.json<{ id: string }>();
    await t.app.privacyExport.tick();
    const status = await exportStatus(t.app, admin, id);
    expect(status.status).toBe('ready');
    expect((await get(status.url as string, owner)).statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'GET', url: `/api/account/exports/${id}`, headers: owner.auth })).statusCode,
    ).toBe(404);
    const got = await get(status.url as string, admin);
    expect(got.statusCode).toBe(200);
    const data = JSON.parse((readZip(got.rawPayload).get('data.json') as Buffer).toString('utf8'));
    expect(data.profile.id).toBe(owner.id);
    expect(data.requestedBy).toEqual({ self: false });
    // A user without user:manage cannot export someone else.
    const denied = await t.app.inject({
      method: 'POST',
      url: `/api/admin/users/${admin.id}/export`,
      headers: other.auth,
    });
    expect(denied.statusCode).toBe(403);
    const audited = await t.deps.db.query<{ action: string }>(
      `select action from audit_events where action like 'privacy.export.%' and target_id = $1`,
      [owner.id.toLowerCase()],
    );
    expect(audited.map((a) => a.action)).toEqual(
      expect.arrayContaining(['privacy.export.requested', 'privacy.export.ready', 'privacy.export.downloaded']),
    );
  }, 120_000);
});

describe('the job', () => {
  it('survives a restart: a requested export, and one whose builder died mid-build, are built by the next node', async () => {
    const t = await buildTestApp({ PRIVACY_EXPORT_POLL_MS: '0' });
    let node2: FastifyInstance | undefined;
    try {
      const user = await createUser(t.app);
      const first = await requestExport(t.app, user);
      // The first node stops before building it.
      await t.app.close();
      node2 = await buildApp({ ...t.deps }, { logger: false });
      await node2.ready();
      const login = await node2.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: user.email, password: user.password },
      });
      const auth = { authorization: `Bearer ${login.json<{ accessToken: string }>().accessToken}` };
      const second = await node2.inject({ method: 'POST', url: '/api/account/export', headers: auth });
      expect(second.statusCode, second.body).toBe(409); // one export at a time: the first is still pending
      expect(await node2.privacyExport.tick()).toBe(1);
      const done = await node2.inject({ method: 'GET', url: `/api/account/exports/${first}`, headers: auth });
      expect(done.json().status).toBe('ready');

      // A builder that claimed a row and died: nobody takes it while its claim holds, the next pass after.
      const third = (await node2.inject({ method: 'POST', url: '/api/account/export', headers: auth })).json<{
        id: string;
      }>().id;
      const claimed = await node2.privacyExport.repo.claimNext(
        t.clock.now(),
        new Date(t.clock.now().getTime() + EXPORT_CLAIM_MS),
      );
      expect(claimed?.id).toBe(third);
      expect(await node2.privacyExport.tick()).toBe(0);
      t.clock.advance(EXPORT_CLAIM_MS + 1000);
      expect(await node2.privacyExport.tick()).toBe(1);
      const rebuilt = await node2.inject({ method: 'GET', url: `/api/account/exports/${third}`, headers: auth });
      expect(rebuilt.json().status).toBe('ready');
    } finally {
      await node2?.close();
      await t.close();
    }
  }, 180_000);
});
