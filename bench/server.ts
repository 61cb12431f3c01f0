/**
 * The server side of the HTTP benchmark, run in its own process so the load generator does not
 * share its event loop. Seeds a user and a published portfolio, listens on a free port, and
 * prints one JSON line with what the load generator needs. Shared by every HTTP benchmark
 * (`npm run bench`, `npm run bench:shield`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { openPlatform } from '../src/platform/bootstrap.js';
import { newId } from '../src/platform/ids.js';
import { KeyRingError } from '../src/security/tokens/keys.js';

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-bench-'));
// BENCH_CONFIG: a JSON object of extra configuration (e.g. the rate-limit bench's policies).
const extra = JSON.parse(process.env['BENCH_CONFIG'] ?? '{}') as Record<string, string>;
const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATA_DIR: dataDir,
  PORT: '0',
  // These variants measure the request path itself; the rate-limit bench turns the limiter on.
  RATE_LIMIT_ENABLED: 'false',
  // A loaded benchmark machine must not shed the very requests being measured.
  LOAD_SHED_MAX_EVENT_LOOP_DELAY: '0',
  KV_PREFIX: `bench:${randomBytes(4).toString('hex')}:`,
  ...(process.env['BENCH_DATABASE_URL']
    ? {
        DATABASE_URL: process.env['BENCH_DATABASE_URL'],
        JWT_SECRET: 'bench-only-jwt-secret-shared-by-every-bench-server',
      }
    : {}),
  ...(process.env['BENCH_REDIS_URL'] ? { REDIS_URL: process.env['BENCH_REDIS_URL'] } : {}),
  ...extra,
});
const deps = await openPlatform(config);
// BENCH_UNPREPARED=1: every query parsed and planned on each call, as before prepared reads
// (src/platform/db QueryOptions), for a side-by-side comparison in one run.
if (process.env['BENCH_UNPREPARED'] === '1') {
  const query = deps.db.query.bind(deps.db);
  deps.db.query = (sql, params) => query(sql, params);
}
// Every bench server of a run shares BENCH_DATABASE_URL, so they share one JWT_SECRET (the key
// ring is encrypted with it). Keys left there by earlier runs under another secret are scratch.
if (config.DATABASE_URL) {
  const probe = await buildApp(deps, { logger: false }).catch(async (err: unknown) => {
    if (!(err instanceof KeyRingError)) throw err;
    await deps.db.query('delete from signing_keys');
    return null;
  });
  await probe?.close();
}
const app = await buildApp(deps, { logger: false });
// The same small JSON route, open and behind authentication (verify + revocation + binding), so
// the token benchmark (bench/tokens.ts) measures what authentication itself costs.
app.get('/bench/hello', async () => ({ ok: true, user: null }));
app.get('/bench/hello-auth', { onRequest: app.authenticate }, async (request) => ({
  ok: true,
  user: request.actor?.userId ?? null,
}));
// How often authentication had to ask the database (revocation cache misses), for the token bench.
app.get('/bench/token-stats', async () => ({ ...app.tokens.revocation.stats }));
// BENCH_NO_SNAPSHOTS=1: no stored answers (public_snapshots), so every miss renders: the public
// read's cache miss as it was before them (`npm run bench`, the miss-cold rows).
if (process.env['BENCH_NO_SNAPSHOTS'] === '1') (app.content.public as { snapshots: unknown }).snapshots = null;
// BENCH_RENDER_ON_WRITE=1: what rendering every language in the write would cost it. After a
// PATCH, before its answer is sent, the public read is rendered (the one statement, the signed
// links, the JSON) in the benchmark portfolio's three languages: the write-throughput rows compare
// that with the write alone (stored answers are rendered lazily, on the first miss). Storing the
// three answers (one upsert each) is not included.
let renderOnWrite: { slug: string } | null = null;
app.addHook('onSend', async (request, reply, payload) => {
  if (renderOnWrite && request.method === 'PATCH' && reply.statusCode === 200) {
    for (const lang of ['en', 'es', 'fr']) JSON.stringify(await app.content.public.getBySlug(renderOnWrite.slug, lang));
  }
  return payload;
});
await app.ready();

const tag = randomBytes(4).toString('hex');
const email = `bench-${tag}@example.test`;
const password = `Violet-Harbor-Lantern-${tag}`;
const benchUser = await app.users.create({ email, password, name: 'Bench' });
const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
const { accessToken } = login.json<{ accessToken: string }>();
const auth = { authorization: `Bearer ${accessToken}` };
const slug = `bench-${tag}`;
const { portfolioId, projectId } = await seedRealisticPortfolio(slug);
if (process.env['BENCH_RENDER_ON_WRITE'] === '1') renderOnWrite = { slug };

/**
 * The portfolio every HTTP benchmark reads, of realistic size (issue 16): 3 languages (en by
 * default, es and fr translated), 12 projects, 6 sections, 10 experiences, 40 skills, 10 links
 * and 20 available media. Media rows are inserted directly as 'available': the upload pipeline
 * (scan, re-encode) is not what is measured, and the public read only signs links to them.
 */
async function seedRealisticPortfolio(portfolioSlug: string): Promise<{ portfolioId: string; projectId: string }> {
  const inject = async (url: string, payload: Record<string, unknown>) => {
    const res = await app.inject({ method: 'POST', url, headers: auth, payload });
    if (res.statusCode !== 201) throw new Error(`seeding ${url} failed: ${res.statusCode} ${res.body}`);
    return res.json<{ id: string }>();
  };
  const langs = ['es', 'fr'] as const;
  const tr = (fields: Record<string, string>) =>
    Object.fromEntries(
      langs.map((l) => [l, Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, `${v} (${l})`]))]),
    );
  const { id } = await inject('/api/portfolios', {
    title: 'Benchmark portfolio',
    slug: portfolioSlug,
    summary: 'A portfolio of typical size. '.repeat(8),
    visibility: 'public',
    published: true,
    translations: tr({ title: 'Benchmark portfolio', summary: 'A portfolio of typical size. '.repeat(8) }),
  });
  const projectIds: string[] = [];
  for (let i = 0; i < 12; i++) {
    const texts = { title: `Project ${i}`, description: 'Something built with care. '.repeat(12) };
    const project = await inject(`/api/portfolios/${id}/projects`, {
      ...texts,
      url: `https://example.com/projects/${i}`,
      repositoryUrl: `https://github.com/example/project-${i}`,
      date: `20${10 + i}-0${(i % 9) + 1}-15`,
      skills: ['typescript', 'postgres', 'fastify'],
      position: i,
      translations: tr(texts),
    });
    projectIds.push(project.id);
  }
  for (let i = 0; i < 6; i++) {
    const texts = { title: `Section ${i}`, body: '# Heading\n\nSome markdown with **emphasis**. '.repeat(15) };
    await inject(`/api/portfolios/${id}/sections`, {
      kind: i === 0 ? 'about' : 'custom',
      ...texts,
      position: i,
      translations: tr(texts),
    });
  }
  for (let i = 0; i < 10; i++) {
    const texts = {
      title: `Engineer ${i}`,
      organization: `Company ${i}`,
      description: 'Shipped things that mattered. '.repeat(8),
    };
    await inject(`/api/portfolios/${id}/experiences`, {
      ...texts,
      startYear: 2000 + i,
      endYear: 2001 + i,
      position: i,
      translations: tr(texts),
    });
  }
  for (let i = 0; i < 40; i++) {
    const texts = { name: `Skill ${i}` };
    await inject(`/api/portfolios/${id}/skills`, {
      ...texts,
      type: 'technical',
      level: (i % 5) + 1,
      position: i,
      translations: tr(texts),
    });
  }
  for (let i = 0; i < 10; i++) {
    const texts = { label: `Link ${i}` };
    await inject(`/api/portfolios/${id}/links`, {
      url: `https://example.com/me/${i}`,
      kind: 'website',
      position: i,
      translations: tr(texts),
    });
  }
  for (let i = 0; i < 20; i++) {
    const variant = (name: string, size: number, width: number) => ({
      key: `bench/${tag}/${i}/${name}.webp`,
      size,
      sha256: '0'.repeat(64),
      contentType: 'image/webp',
      width,
      height: Math.round(width * 0.75),
    });
    await deps.db.query(
      `insert into media (id, portfolio_id, project_id, uploaded_by, kind, category, is_default_resume, status,
         original_name, extension, declared_type, detected_type, size, sha256, width, height, variants)
       values ($1, $2, $3, $4, 'image', 'gallery', false, 'available', $5, 'webp', 'image/webp', 'image/webp', 48000,
         $6, 1600, 1200, $7::jsonb)`,
      [
        newId(),
        id,
        projectIds[i % projectIds.length] ?? null,
        benchUser.id,
        `photo-${i}.webp`,
        '0'.repeat(64),
        JSON.stringify({ display: variant('display', 48000, 1600), thumbnail: variant('thumbnail', 6000, 320) }),
      ],
    );
  }
  return { portfolioId: id, projectId: projectIds[0] ?? '' };
}

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
// email/password: the login benchmark (bench/monitoring.ts) signs in as this user.
process.stdout.write(
  `${JSON.stringify({ port, slug, portfolioId, projectId, accessToken, email, password, database: deps.db.kind })}\n`,
);

process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => deps.kv.close())
    .then(() => deps.db.close())
    .then(() => process.exit(0));
});
