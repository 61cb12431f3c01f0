/**
 * Scheduled publishing: publishAt / unpublishAt on portfolios and projects. The times are
 * validated (ISO 8601 with an offset, unpublish after publish, on the row as it will be), a
 * translator cannot set them, and the job applies each exactly once across two nodes sharing the
 * database: the clock is the shared ManualClock, and the test calls each node's tick itself
 * (concurrently), so nothing depends on timers. Each applied time is audited and reaches the
 * public read on both nodes. Migration 0012 keeps every existing row (PGlite, and PostgreSQL
 * with TEST_DATABASE_URL).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { call, createChild } from '../../../test/content-helpers.js';
import { buildTestApp, openTestDb, type TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { secondNode } from '../../../test/helpers/tokens.js';
import { giveRoles, makeRole } from '../../../test/support/users/roles.js';
import type { Db } from '../../platform/db/index.js';
import { migrate } from '../../platform/db/migrate.js';
import { migrations } from '../../platform/db/migrations/index.js';
import { newId } from '../../platform/ids.js';
import { SCHEDULE_LEASE_KEY } from './service.js';

let t: TestApp;
let b: Awaited<ReturnType<typeof secondNode>>;
let owner: TestUser;
let translator: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  b = await secondNode(t.deps);
  owner = await createUser(t.app);
  translator = await createUser(t.app);
  await makeRole(t.app, 'translator-es', ['content:read_any', 'content:write_any'], ['es']);
  await giveRoles(t.app, translator.id, ['translator-es']);
});
afterAll(async () => {
  await b.close();
  await t.close();
});

const at = (secondsFromNow: number) => new Date(t.clock.now().getTime() + secondsFromNow * 1000).toISOString();

async function events(action: string, targetId: string) {
  await t.app.audit.flush();
  return (await t.app.audit.repo.query({ action, targetId }, 100)) as {
    actor: string;
    metadata: Record<string, unknown>;
  }[];
}

/** Both nodes run a pass at the same moment, a few times over. */
async function tickBoth(times = 3): Promise<number> {
  let applied = 0;
  for (let i = 0; i < times; i++) {
    const results = await Promise.all([t.app.contentSchedule.tick(), b.app.contentSchedule.tick()]);
    for (const r of results) applied += r.applied.length;
  }
  return applied;
}

describe('the schedule fields', () => {
  it('are ISO 8601 with an offset; a local time, a date, a number or garbage is 400', async () => {
    const p = await createPortfolio(t.app, owner);
    for (const publishAt of [
      '2030-01-01T09:00:00',
      '2030-01-01',
      '2030-01-01 09:00:00+01:00',
      1893456000,
      'tomorrow',
      '2030-13-45T99:00:00Z',
      '',
    ]) {
      const res = await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body: { publishAt } });
      expect(res.statusCode, String(publishAt)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
    const ok = await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, {
      as: owner,
      body: { publishAt: '2030-01-01T09:00:00+01:00', unpublishAt: '2030-01-02T00:00:00Z' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ publishAt: '2030-01-01T08:00:00.000Z', unpublishAt: '2030-01-02T00:00:00.000Z' });
  });

  it('refuse unpublishAt at or before publishAt, also against the stored value, on portfolios and projects', async () => {
    const bad = await call(t.app, 'POST', '/api/portfolios', {
      as: owner,
      body: {
        title: 'x',
        slug: `s-${newId().slice(-12)}`,
        publishAt: '2030-01-02T00:00:00Z',
        unpublishAt: '2030-01-02T00:00:00Z',
      },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VALIDATION_FAILED');
    const p = await createPortfolio(t.app, owner, { publishAt: '2030-01-02T00:00:00Z' } as never);
    const patch = await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, {
      as: owner,
      body: { unpublishAt: '2030-01-01T00:00:00Z' },
    });
    expect(patch.statusCode).toBe(400);
    const project = await createChild(t.app, owner, p.id, 'projects', {
      title: 'A',
      publishAt: '2030-01-02T00:00:00Z',
    });
    const pp = await call(t.app, 'PATCH', `/api/projects/${project.id}`, {
      as: owner,
      body: { unpublishAt: '2029-12-31T23:00:00-01:00' },
    });
    expect(pp.statusCode).toBe(400);
    expect(pp.json().code).toBe('VALIDATION_FAILED');
    const cleared = await call(t.app, 'PATCH', `/api/projects/${project.id}`, {
      as: owner,
      body: { publishAt: null, unpublishAt: '2029-01-01T00:00:00Z' },
    });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json()).toMatchObject({ publishAt: null, unpublishAt: '2029-01-01T00:00:00.000Z', published: true });
  });

  it('cannot be set by a translator (publication is not a translation)', async () => {
    const p = await createPortfolio(t.app, owner);
    const project = await createChild(t.app, owner, p.id, 'projects', { title: 'A' });
    for (const [url, body] of [
      [`/api/portfolios/${p.id}`, { publishAt: at(60) }],
      [`/api/portfolios/${p.id}`, { unpublishAt: at(60) }],
      [`/api/projects/${project.id}`, { publishAt: at(60) }],
      [`/api/projects/${project.id}`, { published: false }],
    ] as const) {
      const res = await call(t.app, 'PATCH', url, { as: translator, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(403);
    }
  });

  it('an unpublished project is left out of the public read, its fields never in it', async () => {
    const p = await createPortfolio(t.app, owner, { published: true, visibility: 'public' });
    await createChild(t.app, owner, p.id, 'projects', { title: 'Shown' });
    await createChild(t.app, owner, p.id, 'projects', {
      title: 'Draft',
      published: false,
      translations: { de: { title: 'Entwurf' } },
    });
    const res = await call(t.app, 'GET', `/api/public/portfolios/${p.slug}`);
    expect(res.json().projects.map((x: { title: string }) => x.title)).toEqual(['Shown']);
    expect(res.json().availableLanguages).toEqual(['en']);
    expect(Object.keys(res.json().projects[0])).not.toContain('published');
    expect(Object.keys(res.json().projects[0])).not.toContain('publishAt');
  });
});

describe('the schedule job, on two nodes', () => {
  it('publishes and unpublishes a portfolio and a project exactly once, audited, seen on both nodes', async () => {
    const p = await createPortfolio(t.app, owner, {
      visibility: 'public',
      published: false,
      publishAt: at(60),
      unpublishAt: at(120),
    } as never);
    const live = await createPortfolio(t.app, owner, { visibility: 'public', published: true });
    const project = await createChild(t.app, owner, live.id, 'projects', {
      title: 'Later',
      published: false,
      publishAt: at(90),
    });
    const url = `/api/public/portfolios/${p.slug}`;
    const projects = async (app: typeof t.app) =>
      (await app.inject({ method: 'GET', url: `/api/public/portfolios/${live.slug}` }))
        .json()
        .projects.map((x: { title: string }) => x.title);

    // Not due yet: nothing happens, however often the nodes look.
    expect(await tickBoth()).toBe(0);
    expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(404);
    expect(await projects(b.app)).toEqual([]);

    t.clock.advance(61_000);
    await tickBoth();
    for (const app of [t.app, b.app]) expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200);
    expect((await call(t.app, 'GET', `/api/portfolios/${p.id}`, { as: owner })).json()).toMatchObject({
      published: true,
      publishAt: null,
    });
    expect(await events('content.schedule.published', p.id)).toHaveLength(1);

    t.clock.advance(30_000);
    await tickBoth();
    for (const app of [t.app, b.app]) expect(await projects(app)).toEqual(['Later']);
    const [projectEvent, ...more] = await events('content.schedule.published', project.id);
    expect(more).toHaveLength(0);
    expect(projectEvent).toMatchObject({ actor: 'system', metadata: { portfolioId: live.id } });

    t.clock.advance(30_000);
    await tickBoth();
    for (const app of [t.app, b.app]) expect((await app.inject({ method: 'GET', url })).statusCode).toBe(404);
    expect(await events('content.schedule.unpublished', p.id)).toHaveLength(1);

    // Long after: nothing is applied again.
    t.clock.advance(3600_000);
    expect(await tickBoth()).toBe(0);
    expect(await events('content.schedule.published', p.id)).toHaveLength(1);
    expect(await events('content.schedule.unpublished', p.id)).toHaveLength(1);
  });

  it('a node that finds the leader lock taken skips its pass', async () => {
    owner = await createUser(t.app); // the clock moved past the first owner's token
    const p = await createPortfolio(t.app, owner, { publishAt: at(10) } as never);
    t.clock.advance(11_000);
    // Hold the lock in an open transaction, as another node's pass would.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = t.deps.db.transaction(async (tx) => {
      const [row] = await tx.query<{ ok: boolean }>(
        `select pg_try_advisory_xact_lock(hashtext('portfolio-backend:content-schedule:' || current_schema())) as ok`,
      );
      expect(row?.ok).toBe(true);
      locked();
      await held;
    });
    await lockTaken;
    if (t.deps.db.kind === 'pglite') {
      // One connection: the pass waits for the holder's transaction, then finds the lock free.
      release();
      await holder;
    } else {
      const skipped = await b.app.contentSchedule.tick();
      expect(skipped).toEqual({ leader: false, applied: [] });
      release();
      await holder;
    }
    await tickBoth(1);
    expect((await call(t.app, 'GET', `/api/portfolios/${p.id}`, { as: owner })).json().published).toBe(true);
    expect(await events('content.schedule.published', p.id)).toHaveLength(1);
  });
});

describe('the leader lease (CONTENT_SCHEDULE_POLL_MS)', () => {
  it('is read from the configuration: 5000 by default, 0 turns the timer off, nonsense is refused', async () => {
    expect(t.config.CONTENT_SCHEDULE_POLL_MS).toBe(5000);
    expect(t.app.contentSchedule.intervalMs).toBe(5000);
    const { loadConfig } = await import('../../config/index.js');
    expect(loadConfig({ CONTENT_SCHEDULE_POLL_MS: '0' }).CONTENT_SCHEDULE_POLL_MS).toBe(0);
    for (const bad of ['1', '-5', '5s', '600001']) {
      expect(() => loadConfig({ CONTENT_SCHEDULE_POLL_MS: bad }), bad).toThrow(/CONTENT_SCHEDULE_POLL_MS/);
    }
  });

  it('two nodes sharing a KV: only the lease holder runs the pass body, the other touches nothing; it takes over when the holder stops', async () => {
    // Timers off: every pass below is one the test starts, so the counts are exact.
    const n1 = await buildTestApp({ CONTENT_SCHEDULE_POLL_MS: '0' });
    const n2 = await secondNode(n1.deps);
    const nodes = [n1.app, n2.app];
    try {
      const bodies = nodes.map((app) => vi.spyOn(app.contentSchedule.repo, 'applyDue'));
      const locks = nodes.map((app) => vi.spyOn(app.contentSchedule.repo, 'tryLeaderLock'));
      const me = await createUser(n1.app);
      const soon = new Date(n1.clock.now().getTime() + 4500).toISOString();
      const p = await createPortfolio(n1.app, me, { visibility: 'public', publishAt: soon } as never);

      // Ten rounds, one node after the other (so the database lock never decides anything), then
      // ten more at the same moment. The clock moves less than an interval per round.
      const results = [];
      for (let i = 0; i < 10; i++) {
        for (const app of nodes) results.push(await app.contentSchedule.tick());
        n1.clock.advance(1000);
      }
      for (let i = 0; i < 10; i++) results.push(...(await Promise.all(nodes.map((a) => a.contentSchedule.tick()))));
      const counts = bodies.map((spy) => spy.mock.calls.length);
      // One node ran every pass (20 of them), the other none: not a query, not a lock attempt.
      expect([...counts].sort((a, b) => a - b)).toEqual([0, 20]);
      const idle = counts.indexOf(0);
      expect(locks[idle]!.mock.calls).toHaveLength(0);
      expect(results.filter((r) => r.leader)).toHaveLength(20);
      // The due publish (at +4.5 s, reached in the fifth round) happened once, by the leader.
      expect(results.flatMap((r) => r.applied).map((a) => a.id)).toEqual([p.id]);
      expect((await call(n1.app, 'GET', `/api/portfolios/${p.id}`, { as: me })).json().published).toBe(true);

      // The leader stops (closing the app gives the lease back): the other node leads at its next pass.
      const leader = nodes[1 - idle]!;
      const follower = nodes[idle]!;
      await leader.contentSchedule.stop();
      expect((await follower.contentSchedule.tick()).leader).toBe(true);
      expect(bodies[idle]!.mock.calls).toHaveLength(1);
      // ... and now the old leader is the one that skips.
      expect((await leader.contentSchedule.tick()).leader).toBe(false);
      expect(bodies[1 - idle]!.mock.calls).toHaveLength(20);
    } finally {
      await n2.close();
      await n1.close();
    }
  }, 180_000);

  it('a leader that dies loses the lease when it runs out (two intervals); the next node then leads', async () => {
    const n1 = await buildTestApp({ CONTENT_SCHEDULE_POLL_MS: '0' });
    const n2 = await secondNode(n1.deps);
    try {
      expect((await n1.app.contentSchedule.tick()).leader).toBe(true);
      // n1 "dies": it never passes again and never releases. Its lease holds for two intervals.
      expect(await n1.deps.kv.pttl(SCHEDULE_LEASE_KEY)).toBeGreaterThan(5000);
      expect((await n2.app.contentSchedule.tick()).leader).toBe(false);
      if (n1.deps.kv.kind === 'memory') {
        n1.clock.advance(10_001);
      } else {
        // Redis keeps its own time: end the lease as its TTL would.
        await n1.deps.kv.del(SCHEDULE_LEASE_KEY);
      }
      expect((await n2.app.contentSchedule.tick()).leader).toBe(true);
      expect((await n1.app.contentSchedule.tick()).leader).toBe(false);
    } finally {
      await n2.close();
      await n1.close();
    }
  }, 180_000);

  it('a KV that cannot answer does not stop publishing: the pass runs under the database lock alone', async () => {
    const n1 = await buildTestApp({ CONTENT_SCHEDULE_POLL_MS: '0' });
    try {
      const me = await createUser(n1.app);
      const p = await createPortfolio(n1.app, me, {
        publishAt: new Date(n1.clock.now().getTime() + 5000).toISOString(),
      } as never);
      n1.clock.advance(6000);
      const run = vi.spyOn(n1.deps.kv, 'run').mockRejectedValue(new Error('kv down'));
      const result = await n1.app.contentSchedule.tick();
      expect(run).toHaveBeenCalled();
      expect(result.applied.map((a) => a.id)).toEqual([p.id]);
      run.mockRestore();
    } finally {
      await n1.close();
    }
  }, 180_000);
});

describe('migration 0012', () => {
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await drop?.();
    drop = undefined;
  });

  it('keeps every portfolio and project; existing projects stay published, nothing is scheduled', async () => {
    const opened = await openTestDb();
    drop = opened.drop;
    const db: Db = opened.db;
    await migrate(
      db,
      migrations.filter((m) => m.id < 12),
    );
    const user = newId();
    const portfolio = newId();
    await db.query(`insert into users (id, email, name, password_hash) values ($1, 'o@example.test', 'O', 'x')`, [
      user,
    ]);
    await db.query(
      `insert into portfolios (id, owner_id, slug, title, published) values ($1, $2, 'kept', 'Kept', true)`,
      [portfolio, user],
    );
    for (let i = 0; i < 3; i++) {
      await db.query(`insert into projects (id, portfolio_id, title, position) values ($1, $2, $3, $4)`, [
        newId(),
        portfolio,
        `P${i}`,
        i,
      ]);
    }
    const before = {
      portfolios: await db.query(`select * from portfolios order by id`),
      projects: await db.query(`select * from projects order by id`),
    };
    await migrate(
      db,
      migrations.filter((m) => m.id <= 12),
    );
    const after = {
      portfolios: await db.query<Record<string, unknown>>(`select * from portfolios order by id`),
      projects: await db.query<Record<string, unknown>>(`select * from projects order by id`),
    };
    expect(
      after.portfolios.map(
        ({ publish_at, unpublish_at, ...rest }) => (expect([publish_at, unpublish_at]).toEqual([null, null]), rest),
      ),
    ).toEqual(before.portfolios);
    expect(
      after.projects.map(
        ({ published, publish_at, unpublish_at, ...rest }) => (
          expect([published, publish_at, unpublish_at]).toEqual([true, null, null]),
          rest
        ),
      ),
    ).toEqual(before.projects);
  });
});
