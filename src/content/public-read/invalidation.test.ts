/**
 * The per-node public-read cache never outlives the content it holds. Every kind of write that can
 * change a public read (portfolio, child, move, publish, visibility, site default, owner
 * disabled, medium quarantined or deleted, portfolio deleted) changes the next read on the node
 * that wrote at once, and on a second node through the KV channel (Redis when this run has one).
 * The shared clock never moves in these tests, so node B cannot have learnt of a change from its
 * staleness bound: only the channel can have told it. With the channel cut, the bound holds.
 */
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createChild } from '../../../test/content-helpers.js';
import type { TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { secondNode } from '../../../test/helpers/tokens.js';
import { png, upload, uploadTestApp } from '../../../test/support/uploads/helpers.js';
import { giveRoles, makeRole } from '../../../test/support/users/roles.js';
import { buildApp } from '../../app.js';
import { openKv } from '../../platform/kv/index.js';

let t: TestApp;
let b: Awaited<ReturnType<typeof secondNode>>;
let owner: TestUser;

beforeAll(async () => {
  t = await uploadTestApp();
  b = await secondNode(t.deps);
  owner = await createUser(t.app);
});
afterAll(async () => {
  await b.close();
  await t.close();
});

interface Read {
  status: number;
  etag: string | undefined;
  body: Record<string, unknown> | null;
}

async function read(app: FastifyInstance, url: string, headers: Record<string, string> = {}): Promise<Read> {
  const res = await app.inject({ method: 'GET', url, headers });
  return {
    status: res.statusCode,
    etag: res.headers.etag as string | undefined,
    body: res.statusCode === 200 ? (res.json() as Record<string, unknown>) : null,
  };
}

/**
 * Reads on a node until an answer comes from its cache (so the test proves eviction later). A few
 * tries: the announcement of the portfolio's own creation may still be on its way to this node,
 * and a build that an eviction overtakes is not kept.
 */
async function warm(app: FastifyInstance, url: string): Promise<Read> {
  for (let i = 0; i < 20; i++) {
    const before = app.content.public.cache.stats.hits;
    const r = await read(app, url);
    expect(r.status).toBe(200);
    if (app.content.public.cache.stats.hits === before + 1) return r;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${url} never came from the cache`);
}

/** Polls node B until `done` holds for its read (bounded: 1 s, the channel's promise). */
async function onB(url: string, done: (r: Read) => boolean): Promise<Read> {
  const started = Date.now();
  for (;;) {
    const r = await read(b.app, url);
    if (done(r)) return r;
    if (Date.now() - started > 1_000) return r;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Warms both nodes, runs the write, then expects `changed` at once on A and within 1 s on B. */
async function expectSeenEverywhere(
  url: string,
  write: () => Promise<void>,
  changed: (r: Read) => boolean,
): Promise<void> {
  const beforeA = await warm(t.app, url);
  const beforeB = await warm(b.app, url);
  expect(changed(beforeA)).toBe(false);
  expect(changed(beforeB)).toBe(false);
  await write();
  const afterA = await read(t.app, url);
  expect(changed(afterA)).toBe(true);
  const afterB = await onB(url, changed);
  expect(changed(afterB)).toBe(true);
  // A 304 is never sent for changed content: the old tag does not match any more.
  for (const app of [t.app, b.app]) {
    const res = await app.inject({ method: 'GET', url, headers: { 'if-none-match': beforeA.etag ?? '"x"' } });
    expect(res.statusCode).not.toBe(304);
  }
}

async function published(input: Record<string, unknown> = {}) {
  return createPortfolio(t.app, owner, { published: true, visibility: 'public', ...input });
}

const titleIs = (title: string) => (r: Read) => r.body?.['title'] === title;
const gone = (r: Read) => r.status === 404;
const projectTitles = (r: Read) => ((r.body?.['projects'] ?? []) as { title: string }[]).map((p) => p.title);
const mediaIds = (r: Read) => ((r.body?.['media'] ?? []) as { id: string }[]).map((m) => m.id);

describe('every kind of write reaches both nodes', () => {
  it('a portfolio change', async () => {
    const p = await published({ title: 'Before' });
    await expectSeenEverywhere(
      `/api/public/portfolios/${p.slug}`,
      async () => {
        const res = await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body: { title: 'After' } });
        expect(res.statusCode).toBe(200);
      },
      titleIs('After'),
    );
  });

  it('a translation change, read in that language', async () => {
    const p = await published({ title: 'Hello', translations: { es: { title: 'Hola' } } });
    await expectSeenEverywhere(
      `/api/public/portfolios/${p.slug}?lang=es`,
      async () => {
        const body = { translations: { es: { title: 'Buenas' } } };
        expect((await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body })).statusCode).toBe(200);
      },
      titleIs('Buenas'),
    );
  });

  it('a child created, changed and deleted', async () => {
    const p = await published();
    const url = `/api/public/portfolios/${p.slug}`;
    let projectId = '';
    await expectSeenEverywhere(
      url,
      async () => {
        projectId = (await createChild(t.app, owner, p.id, 'projects', { title: 'Compiler' })).id;
      },
      (r) => projectTitles(r).includes('Compiler'),
    );
    await expectSeenEverywhere(
      url,
      async () => {
        const res = await call(t.app, 'PATCH', `/api/projects/${projectId}`, { as: owner, body: { title: 'Linker' } });
        expect(res.statusCode).toBe(200);
      },
      (r) => projectTitles(r).includes('Linker'),
    );
    await expectSeenEverywhere(
      url,
      async () => {
        expect((await call(t.app, 'DELETE', `/api/projects/${projectId}`, { as: owner })).statusCode).toBe(204);
      },
      (r) => projectTitles(r).length === 0,
    );
  });

  it('a child moved to another portfolio leaves the first and joins the second', async () => {
    const from = await published();
    const to = await published();
    const skill = await createChild(t.app, owner, from.id, 'skills', { name: 'Rust' });
    const names = (r: Read) => ((r.body?.['skills'] ?? []) as { name: string }[]).map((s) => s.name);
    await warm(t.app, `/api/public/portfolios/${to.slug}`);
    await warm(b.app, `/api/public/portfolios/${to.slug}`);
    await expectSeenEverywhere(
      `/api/public/portfolios/${from.slug}`,
      async () => {
        const res = await call(t.app, 'PATCH', `/api/skills/${skill.id}`, { as: owner, body: { portfolioId: to.id } });
        expect(res.statusCode).toBe(200);
      },
      (r) => names(r).length === 0,
    );
    expect(names(await read(t.app, `/api/public/portfolios/${to.slug}`))).toEqual(['Rust']);
    expect(names(await onB(`/api/public/portfolios/${to.slug}`, (r) => names(r).length === 1))).toEqual(['Rust']);
  });

  it.each([
    ['unpublishing', { published: false }],
    ['making it private', { visibility: 'private' }],
  ])('%s hides it at once, cached copies included', async (_name, body) => {
    const p = await published();
    await expectSeenEverywhere(
      `/api/public/portfolios/${p.slug}`,
      async () => {
        expect((await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body })).statusCode).toBe(200);
      },
      gone,
    );
  });

  it('deleting the portfolio', async () => {
    const p = await published();
    await expectSeenEverywhere(
      `/api/public/portfolios/${p.slug}`,
      async () => {
        expect((await call(t.app, 'DELETE', `/api/portfolios/${p.id}`, { as: owner })).statusCode).toBe(204);
      },
      gone,
    );
  });

  it('a reorder of a child kind', async () => {
    const p = await published();
    const first = await createChild(t.app, owner, p.id, 'projects', { title: 'First' });
    const second = await createChild(t.app, owner, p.id, 'projects', { title: 'Second' });
    await expectSeenEverywhere(
      `/api/public/portfolios/${p.slug}`,
      async () => {
        const res = await t.app.inject({
          method: 'PUT',
          url: `/api/portfolios/${p.id}/projects/order`,
          headers: owner.auth,
          payload: { ids: [second.id, first.id] },
        });
        expect(res.statusCode).toBe(200);
      },
      (r) => projectTitles(r).join() === 'Second,First',
    );
  });

  it('a scheduled unpublish of the portfolio and a scheduled publish of a project, applied by the schedule job', async () => {
    // Times already past: the clock stays frozen, the job's pass applies them at once.
    const past = new Date(t.clock.now().getTime() - 1000).toISOString();
    const p = await published();
    await expectSeenEverywhere(
      `/api/public/portfolios/${p.slug}`,
      async () => {
        const res = await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body: { unpublishAt: past } });
        expect(res.statusCode).toBe(200);
        await t.app.contentSchedule.tick();
      },
      gone,
    );
    const q = await published();
    await createChild(t.app, owner, q.id, 'projects', { title: 'Later', published: false });
    await expectSeenEverywhere(
      `/api/public/portfolios/${q.slug}`,
      async () => {
        const project = (await call(t.app, 'GET', `/api/portfolios/${q.id}/projects`, { as: owner })).json().items[0];
        const res = await call(t.app, 'PATCH', `/api/projects/${project.id}`, { as: owner, body: { publishAt: past } });
        expect(res.statusCode).toBe(200);
        await t.app.contentSchedule.tick();
      },
      (r) => projectTitles(r).join() === 'Later',
    );
  });

  it('a new site default portfolio, and the old one losing the flag', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const first = await createPortfolio(t.app, admin, {
      published: true,
      visibility: 'public',
      isDefault: true,
      title: 'First',
    });
    const second = await createPortfolio(t.app, admin, { published: true, visibility: 'public', title: 'Second' });
    expect(first.id).not.toBe(second.id);
    await expectSeenEverywhere(
      '/api/public/portfolios/default',
      async () => {
        const res = await call(t.app, 'PATCH', `/api/portfolios/${second.id}`, {
          as: admin,
          body: { isDefault: true },
        });
        expect(res.statusCode).toBe(200);
      },
      titleIs('Second'),
    );
  });

  it('the site default language switched in the site settings (every read falls back to it): rebuilt on both nodes', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const p = await published({ title: 'Fallback' });
    const url = `/api/public/portfolios/${p.slug}`;
    const added = await call(t.app, 'POST', '/api/admin/languages', { as: admin, body: { code: 'fr' } });
    expect(added.statusCode).toBe(201);
    await warm(t.app, url);
    await warm(b.app, url);
    /** Did this read build its answer (the cached copy was dropped) rather than serve it? */
    const rebuilt = async (app: FastifyInstance) => {
      const before = app.content.public.cache.stats.misses;
      expect((await read(app, url)).status).toBe(200);
      return app.content.public.cache.stats.misses > before;
    };
    const res = await call(t.app, 'PATCH', '/api/admin/settings', { as: admin, body: { defaultLanguage: 'fr' } });
    expect(res.statusCode).toBe(200);
    try {
      expect(await rebuilt(t.app)).toBe(true);
      const started = Date.now();
      let onB = await rebuilt(b.app);
      while (!onB && Date.now() - started < 1_000) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        onB = await rebuilt(b.app);
      }
      expect(onB).toBe(true);
    } finally {
      await call(t.app, 'PATCH', '/api/admin/settings', { as: admin, body: { defaultLanguage: 'en' } });
    }
  });

  it('the site default language switched from the languages admin, or a fallback chain changed: rebuilt on both nodes', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const p = await published({ title: 'Chains' });
    const url = `/api/public/portfolios/${p.slug}`;
    for (const code of ['de', 'de-CH']) {
      expect((await call(t.app, 'POST', '/api/admin/languages', { as: admin, body: { code } })).statusCode).toBe(201);
    }
    const rebuiltOnBoth = async (write: () => Promise<number>) => {
      await warm(t.app, url);
      await warm(b.app, url);
      const missesA = t.app.content.public.cache.stats.misses;
      const missesB = b.app.content.public.cache.stats.misses;
      expect(await write()).toBe(200);
      await read(t.app, url);
      expect(t.app.content.public.cache.stats.misses).toBe(missesA + 1);
      const started = Date.now();
      while (b.app.content.public.cache.stats.misses === missesB && Date.now() - started < 1_000) {
        await read(b.app, url);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await read(b.app, url);
      expect(b.app.content.public.cache.stats.misses).toBeGreaterThan(missesB);
    };
    const patch = async (code: string, body: Record<string, unknown>) =>
      (await call(t.app, 'PATCH', `/api/admin/languages/${code}`, { as: admin, body })).statusCode;
    try {
      await rebuiltOnBoth(() => patch('de', { isDefault: true }));
      await rebuiltOnBoth(() => patch('de-CH', { fallback: ['en'] }));
    } finally {
      await patch('en', { isDefault: true });
    }
  });

  it("the owner's account disabled", async () => {
    const other = await createUser(t.app);
    const p = await createPortfolio(t.app, other, { published: true, visibility: 'public' });
    await expectSeenEverywhere(
      `/api/public/portfolios/${p.slug}`,
      async () => {
        await t.app.users.update(other.id, { disabled: true });
      },
      gone,
    );
  });

  it("the owner's account erased by the erasure job (its own request keeps the portfolio public until then)", async () => {
    const other = await createUser(t.app);
    const p = await createPortfolio(t.app, other, { published: true, visibility: 'public' });
    await t.app.privacyErasure.request(other.id, { actorId: other.id, context: {} }, false);
    // Due now (the clock of these tests never moves): the grace period is not what is tested here.
    await t.deps.db.query(`update users set deletion_due_at = $2 where id = $1`, [other.id, t.clock.now()]);
    await expectSeenEverywhere(
      `/api/public/portfolios/${p.slug}`,
      async () => {
        expect((await t.app.privacyErasure.tick()).erased).toEqual([other.id]);
      },
      gone,
    );
  });

  it('a medium quarantined (integrity failure) and a medium deleted disappear from the cached payload', async () => {
    const p = await published();
    const url = `/api/public/portfolios/${p.slug}`;
    const ids: string[] = [];
    for (const name of ['a.png', 'b.png']) {
      const res = await upload(
        t.app,
        owner,
        { portfolioId: p.id },
        { name, type: 'image/png', data: await png(40, 30) },
      );
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json().status).toBe('available');
      ids.push(res.json().id as string);
    }
    const [tampered = '', deleted = ''] = ids;
    await expectSeenEverywhere(
      url,
      async () => {
        // A flipped byte on disk, found when a visitor fetches the file: it goes to quarantine.
        const file = path.join(t.config.DATA_DIR, 'uploads', 'objects', tampered, 'display.png');
        const bytes = await readFile(file);
        bytes.writeUInt8(bytes.readUInt8(10) ^ 0x01, 10);
        await writeFile(file, bytes);
        const payload = (await read(t.app, url)).body?.['media'] as { id: string; url: string }[];
        const link = new URL(payload.find((m) => m.id === tampered)?.url ?? 'http://x/');
        await t.app.inject({ method: 'GET', url: link.pathname + link.search }).catch(() => undefined);
        await t.app.uploads.settled();
        expect((await t.app.uploads.repo.get(tampered))?.status).toBe('quarantined');
      },
      (r) => r.status === 200 && !mediaIds(r).includes(tampered) && mediaIds(r).includes(deleted),
    );
    await expectSeenEverywhere(
      url,
      async () => {
        expect((await call(t.app, 'DELETE', `/api/media/${deleted}`, { as: owner })).statusCode).toBe(204);
      },
      (r) => r.status === 200 && mediaIds(r).length === 0,
    );
  });

  it("a medium's alt text, translations or language changed (PATCH /api/media/:id)", async () => {
    const p = await published();
    const url = `/api/public/portfolios/${p.slug}`;
    const res = await upload(
      t.app,
      owner,
      { portfolioId: p.id },
      { name: 'a.png', type: 'image/png', data: await png(40, 30) },
    );
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json().id as string;
    const altOf = (r: Read) =>
      ((r.body?.['media'] ?? []) as { id: string; alt: string }[]).find((m) => m.id === id)?.alt;
    await expectSeenEverywhere(
      url,
      async () => {
        expect(
          (await call(t.app, 'PATCH', `/api/media/${id}`, { as: owner, body: { alt: 'A lighthouse' } })).statusCode,
        ).toBe(200);
      },
      (r) => r.status === 200 && altOf(r) === 'A lighthouse',
    );
    // Moved to a language the read is not in: it leaves the payload.
    const admin = await createUser(t.app, { role: 'admin' });
    const es = await call(t.app, 'POST', '/api/admin/languages', { as: admin, body: { code: 'es' } });
    expect([201, 409]).toContain(es.statusCode); // 409: another case enabled it already
    await expectSeenEverywhere(
      url,
      async () => {
        expect(
          (await call(t.app, 'PATCH', `/api/media/${id}`, { as: owner, body: { language: 'es' } })).statusCode,
        ).toBe(200);
      },
      (r) => r.status === 200 && !mediaIds(r).includes(id),
    );
  });
});

describe('language deletes reach both nodes', () => {
  it('a language deleted with force untags its media: the medium joins every read, on both nodes', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    expect((await call(t.app, 'POST', '/api/admin/languages', { as: admin, body: { code: 'br' } })).statusCode).toBe(
      201,
    );
    const p = await published();
    const res = await upload(
      t.app,
      owner,
      { portfolioId: p.id },
      { name: 'a.png', type: 'image/png', data: await png(40, 30) },
      { category: 'gallery', language: 'br' },
    );
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json().id as string;
    await expectSeenEverywhere(
      `/api/public/portfolios/${p.slug}`,
      async () => {
        const del = await call(t.app, 'DELETE', '/api/admin/languages/br?force=true', { as: admin });
        expect(del.statusCode, del.body).toBe(204);
      },
      (r) => r.status === 200 && mediaIds(r).includes(id),
    );
  });
});

describe('categories and relations reach both nodes', () => {
  it("a category renamed changes every portfolio that uses it (its own, a project's, a skill's)", async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    await call(t.app, 'POST', '/api/category-types', { as: admin, body: { code: 'inv-topic', name: 'Topic' } });
    const made = await call(t.app, 'POST', '/api/categories', {
      as: admin,
      body: { code: 'inv-web', typeCode: 'inv-topic', name: 'Web' },
    });
    expect(made.statusCode, made.body).toBe(201);
    const cat = made.json<{ id: string }>();
    const viaPortfolio = await published({ categoryIds: [cat.id] });
    const viaProject = await published();
    await createChild(t.app, owner, viaProject.id, 'projects', { title: 'P', categoryIds: [cat.id] });
    const viaSkill = await published();
    await createChild(t.app, owner, viaSkill.id, 'skills', { name: 'S', categoryIds: [cat.id] });
    const names = (r: Read) => JSON.stringify(r.body).includes('"name":"Internet"');
    for (const p of [viaProject, viaSkill]) {
      await warm(t.app, `/api/public/portfolios/${p.slug}`);
      await warm(b.app, `/api/public/portfolios/${p.slug}`);
    }
    await expectSeenEverywhere(
      `/api/public/portfolios/${viaPortfolio.slug}`,
      async () => {
        const res = await call(t.app, 'PATCH', `/api/categories/${cat.id}`, { as: admin, body: { name: 'Internet' } });
        expect(res.statusCode).toBe(200);
      },
      names,
    );
    for (const p of [viaProject, viaSkill]) {
      expect(names(await read(t.app, `/api/public/portfolios/${p.slug}`))).toBe(true);
      expect(names(await onB(`/api/public/portfolios/${p.slug}`, names))).toBe(true);
    }
    // A forced delete takes it out of every one of them.
    const gone = (r: Read) => !JSON.stringify(r.body).includes(cat.id);
    await expectSeenEverywhere(
      `/api/public/portfolios/${viaPortfolio.slug}`,
      async () => {
        const res = await call(t.app, 'DELETE', `/api/categories/${cat.id}?force=true`, { as: admin });
        expect(res.statusCode).toBe(204);
      },
      gone,
    );
    expect(gone(await onB(`/api/public/portfolios/${viaSkill.slug}`, gone))).toBe(true);
  });

  it("a translator's translation of a category name, read in that language", async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const translator = await createUser(t.app);
    await makeRole(t.app, 'inv-translator-es', ['content:read_any', 'content:write_any'], ['es']);
    await giveRoles(t.app, translator.id, ['inv-translator-es']);
    await call(t.app, 'POST', '/api/category-types', { as: admin, body: { code: 'inv-topic-tr', name: 'Topic' } });
    const made = await call(t.app, 'POST', '/api/categories', {
      as: admin,
      body: { code: 'inv-web-tr', typeCode: 'inv-topic-tr', name: 'Web' },
    });
    expect(made.statusCode, made.body).toBe(201);
    const cat = made.json<{ id: string }>();
    // The read negotiates es among the languages the portfolio's texts carry.
    const p = await published({ categoryIds: [cat.id], translations: { es: { title: 'Trabajo' } } });
    await expectSeenEverywhere(
      `/api/public/portfolios/${p.slug}?lang=es`,
      async () => {
        const res = await call(t.app, 'PATCH', `/api/categories/${cat.id}`, {
          as: translator,
          body: { translations: { es: { name: 'Red' } } },
        });
        expect(res.statusCode, res.body).toBe(200);
      },
      (r) => JSON.stringify(r.body).includes('"name":"Red"'),
    );
  });

  it("a project's skills and a section put under a project", async () => {
    const p = await published();
    const url = `/api/public/portfolios/${p.slug}`;
    const skill = await createChild(t.app, owner, p.id, 'skills', { name: 'Elixir' });
    const project = await createChild(t.app, owner, p.id, 'projects', { title: 'Chat' });
    const section = await createChild(t.app, owner, p.id, 'sections', { kind: 'custom', title: 'Design' });
    const chat = (r: Read) =>
      ((r.body?.['projects'] ?? []) as Record<string, unknown>[]).find((x) => x['id'] === project.id);
    await expectSeenEverywhere(
      url,
      async () => {
        const res = await call(t.app, 'PATCH', `/api/projects/${project.id}`, {
          as: owner,
          body: { skillIds: [skill.id] },
        });
        expect(res.statusCode).toBe(200);
      },
      (r) => ((chat(r)?.['linkedSkills'] ?? []) as unknown[]).length === 1,
    );
    await expectSeenEverywhere(
      url,
      async () => {
        const res = await call(t.app, 'PATCH', `/api/sections/${section.id}`, {
          as: owner,
          body: { projectId: project.id },
        });
        expect(res.statusCode).toBe(200);
      },
      (r) => ((chat(r)?.['sections'] ?? []) as unknown[]).length === 1,
    );
  });
});

describe('what is never cached', () => {
  it('a private or unpublished portfolio never enters the cache, nor does a missing one', async () => {
    const hidden = [
      await createPortfolio(t.app, owner, { published: true, visibility: 'private' }),
      await createPortfolio(t.app, owner, { published: false, visibility: 'public' }),
    ];
    const cache = t.app.content.public.cache;
    const size = cache.size;
    for (const p of hidden) {
      for (let i = 0; i < 3; i++) expect((await read(t.app, `/api/public/portfolios/${p.slug}`)).status).toBe(404);
    }
    expect((await read(t.app, '/api/public/portfolios/no-such-one')).status).toBe(404);
    expect(cache.size).toBe(size);
  });

  it("a signed-in owner's own view of a draft is not what visitors get", async () => {
    const p = await createPortfolio(t.app, owner, { published: false, visibility: 'public', title: 'Draft' });
    const mine = await call(t.app, 'GET', `/api/portfolios/${p.id}`, { as: owner });
    expect(mine.statusCode).toBe(200);
    expect(mine.headers['cache-control']).toBe('private, no-store');
    // The public route with the owner's token is still the anonymous read: 404, nothing cached.
    const res = await t.app.inject({ method: 'GET', url: `/api/public/portfolios/${p.slug}`, headers: owner.auth });
    expect(res.statusCode).toBe(404);
  });
});

describe('the KV channel cut', () => {
  it('a node that hears nothing serves its copy at most PUBLIC_READ_CACHE_MAX_STALENESS_MS, then the database', async () => {
    // Node C has its own in-memory KV: no message from A or B can reach it.
    const kv = await openKv({ prefix: 'cut:', now: () => t.clock.now().getTime() });
    const c = await buildApp({ ...t.deps, kv }, { logger: false });
    await c.ready();
    try {
      const p = await published({ title: 'Old' });
      const url = `/api/public/portfolios/${p.slug}`;
      const old = await warm(c, url);
      const res = await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body: { title: 'New' } });
      expect(res.statusCode).toBe(200);
      // Within the bound C may still serve its copy (the cut is real: nothing told it)...
      expect((await read(c, url)).body?.['title']).toBe('Old');
      // ...and past it, it asks the database, finds a newer version and serves that.
      t.clock.advance(t.config.PUBLIC_READ_CACHE_MAX_STALENESS_MS + 1);
      const fresh = await read(c, url);
      expect(fresh.body?.['title']).toBe('New');
      expect(fresh.etag).not.toBe(old.etag);
      const cond = await c.inject({ method: 'GET', url, headers: { 'if-none-match': old.etag ?? '"x"' } });
      expect(cond.statusCode).toBe(200);

      // Unpublished while cut: gone past the bound too.
      await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body: { published: false } });
      t.clock.advance(t.config.PUBLIC_READ_CACHE_MAX_STALENESS_MS + 1);
      expect((await read(c, url)).status).toBe(404);
    } finally {
      await c.close();
      await kv.close();
    }
  });

  it('an unchanged copy past the bound is confirmed with one version check, not rebuilt', async () => {
    const p = await published({ title: 'Steady' });
    const url = `/api/public/portfolios/${p.slug}`;
    const first = await warm(t.app, url);
    const cache = t.app.content.public.cache;
    const { checks, misses } = cache.stats;
    t.clock.advance(t.config.PUBLIC_READ_CACHE_MAX_STALENESS_MS + 1);
    const again = await read(t.app, url);
    expect(again.etag).toBe(first.etag);
    expect(cache.stats.checks).toBe(checks + 1);
    expect(cache.stats.misses).toBe(misses);
  });
});

describe('signed links in a cached payload', () => {
  it('every link a cached answer hands out is valid for as long as the answer may be kept', async () => {
    const p = await published();
    const res = await upload(
      t.app,
      owner,
      { portfolioId: p.id },
      { name: 'l.png', type: 'image/png', data: await png(20, 20) },
    );
    expect(res.statusCode, res.body).toBe(202);
    const url = `/api/public/portfolios/${p.slug}`;
    const first = await warm(t.app, url);
    const ttlMs = t.config.UPLOAD_URL_TTL * 1000;
    type Medium = { url: string; expiresAt: string };
    const linkOf = (r: Read) => ((r.body?.['media'] ?? []) as Medium[])[0] as Medium;
    const expiry = Date.parse(linkOf(first).expiresAt);
    // Links are signed for stable windows: at least half their lifetime is left when an answer is built.
    expect(expiry - t.clock.now().getTime()).toBeGreaterThanOrEqual(ttlMs / 2);

    const check = async (answer: Awaited<ReturnType<FastifyInstance['inject']>>) => {
      const body = answer.json() as Record<string, unknown>;
      const link = linkOf({ status: 200, etag: undefined, body });
      const left = (Date.parse(link.expiresAt) - t.clock.now().getTime()) / 1000;
      const maxAge = Number(/max-age=(\d+)/.exec(String(answer.headers['cache-control']))?.[1]);
      const stale = Number(/stale-while-revalidate=(\d+)/.exec(String(answer.headers['cache-control']))?.[1]);
      // No cache may keep the answer longer than its link lives.
      expect(maxAge + stale).toBeLessThanOrEqual(left);
      const u = new URL(link.url);
      expect((await t.app.inject({ method: 'GET', url: u.pathname + u.search })).statusCode).toBe(200);
    };

    // Just before the entry's end (half the link lifetime left): still the cached answer, link valid.
    t.clock.set(new Date(expiry - ttlMs / 2 - 1));
    const late = await t.app.inject({ method: 'GET', url });
    expect(late.headers.etag).toBe(first.etag);
    await check(late);
    // Just after: rebuilt with fresh links.
    t.clock.advance(2);
    const rebuilt = await t.app.inject({ method: 'GET', url });
    expect(rebuilt.headers.etag).not.toBe(first.etag);
    expect(Date.parse(linkOf({ status: 200, etag: undefined, body: rebuilt.json() }).expiresAt)).toBeGreaterThan(
      expiry,
    );
    await check(rebuilt);
  });
});
