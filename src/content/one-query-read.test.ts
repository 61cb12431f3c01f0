/**
 * The public read is one SQL statement (PublicReadRepository) where it used to be six queries
 * plus the media list. These tests hold it to the old implementation, kept as the reference model
 * in test/support/content/six-query-read.ts: for a randomised corpus of portfolios (languages
 * with regions and scripts, partial translations, translation tags only children carry, a child
 * tagged with the default language, position ties, drafts, private ones, media in every status)
 * and readers asking for any language, both answer exactly the same thing. They also count the
 * queries: one per public read, one per owner read of a portfolio or a list page. Runs on PGlite,
 * and on PostgreSQL with TEST_DATABASE_URL.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createUser, type TestUser } from '../../test/helpers/factories.js';
import { SixQueryPublicRead } from '../../test/support/content/six-query-read.js';
import { statementsDuring } from '../../test/support/content/statements.js';
import { AppError } from '../http/errors.js';
import { newId } from '../platform/ids.js';
import type { Actor } from '../users/policy.js';
import { CategoryRepository } from './categories/repository.js';
import { RelationRepository } from './relations/repository.js';
import { ChildRepository, PortfolioRepository } from './repository.js';
import { CHILD_RESOURCES } from './schema.js';

let t: TestApp;
let owner: TestUser;
let reference: SixQueryPublicRead;
let portfolios: PortfolioRepository;
let slugCounter = 0;
let relations: RelationRepository;
/** Site categories of the corpus: names translated into some tags, codes the filter asks for. */
const categoryIds: string[] = [];
const CATEGORY_CODES = ['prop-a', 'prop-b', 'prop-c', 'prop-d'];
const CATEGORY_FILTERS = ['prop-a', 'PROP-B', 'nope', undefined] as const;

beforeAll(async () => {
  t = await buildTestApp();
  owner = await createUser(t.app);
  // Site languages with declared fallback chains (depth first, with shared tails), so the reads
  // fall back along them and then to the site default (en).
  const by = { actorId: 'system', context: { ip: null, userAgent: null, requestId: null } };
  for (const [code, fallback] of [
    ['es', []],
    ['fr', []],
    ['pt', ['es']],
    ['pt-BR', ['pt', 'fr']],
    ['fr-CA', ['fr', 'es']],
    ['es-419', ['es']],
    ['zh-Hant-TW', ['fr-CA', 'pt']],
  ] as const) {
    await t.app.languages.create(by, { code, fallback: [...fallback] });
  }
  reference = new SixQueryPublicRead(t.deps.db, (id) => t.app.uploads.publicMedia(id));
  portfolios = new PortfolioRepository(t.deps.db);
  relations = new RelationRepository(t.deps.db);
  const categories = new CategoryRepository(t.deps.db);
  await categories.createType({ code: 'prop-topic', name: 'Topic', translations: {}, now: t.clock.now() });
  const names: Record<string, unknown>[] = [
    {},
    { es: { name: 'Tema' } },
    { 'pt-BR': { name: 'Tópico' }, pt: { name: 'Tema pt' } },
    { fr: { name: 'Sujet' }, de: { name: 'Thema' } },
  ];
  for (const [i, code] of CATEGORY_CODES.entries()) {
    const id = newId();
    categoryIds.push(id);
    await categories.create({
      id,
      typeCode: 'prop-topic',
      code,
      name: `Topic ${i}`,
      translations: names[i],
      now: t.clock.now(),
    });
  }
});
afterAll(async () => {
  await t.close();
});

// ---- the corpus -------------------------------------------------------------------------------

const DEFAULT_LANGUAGES = ['en', 'es', 'pt', 'pt-BR', 'zh-Hant-TW', 'es-419', 'fr'] as const;
const TAGS = ['en', 'es', 'es-419', 'pt', 'pt-BR', 'pt-PT', 'fr', 'fr-CA', 'de', 'zh-Hant-TW', 'zh-Hans'] as const;
const REQUESTED = [...TAGS, 'PT-br', 'ES', 'zh', 'pt-AO', 'xx', 'en-GB', 'FR-ca', 'de-CH-1996', undefined] as const;

const text = fc.constantFrom(
  'alpha',
  'Beta',
  'γάμμα',
  'delta "quoted"',
  'emoji 🎉',
  'tab\tnew\nline',
  'back\\slash',
  '',
);
const name = fc.constantFrom('Alpha', 'Beta', 'Gamma', 'Δelta', 'Ünïcode');

/** translations for some tags, each with a non-empty subset of the fields. */
const translationsOf = (fields: readonly string[], tags: fc.Arbitrary<string[]>) =>
  tags.chain((chosen) =>
    fc
      .tuple(
        ...chosen.map(() =>
          fc
            .subarray([...fields], { minLength: 1 })
            .chain((fs) =>
              fc.tuple(...fs.map(() => name)).map((vs) => Object.fromEntries(fs.map((f, i) => [f, vs[i]]))),
            ),
        ),
      )
      .map((entries) => Object.fromEntries(chosen.map((tag, i) => [tag, entries[i]]))),
  );

const anyTags = fc.subarray([...TAGS], { maxLength: 4 });

const childValues: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  projects: fc.record({
    title: name,
    description: text,
    url: fc.constantFrom(null, 'https://example.com/x'),
    date: fc.constantFrom(null, '2020-02-29', '1999-12-31'),
    skills: fc.constantFrom([], ['go'], ['ts', 'sql']),
    // Unpublished projects (and their translation tags) stay out of the public read.
    published: fc.constantFrom(true, true, false),
  }),
  sections: fc.record({ kind: fc.constantFrom('about', 'custom'), title: name, body: text }),
  experiences: fc.record({
    title: name,
    organization: text,
    description: text,
    startYear: fc.constantFrom(2001, 2010),
    endYear: fc.constantFrom(null, 2020),
  }),
  skills: fc.record({ name, type: fc.constantFrom('technical', 'soft'), level: fc.constantFrom(null, 1, 5) }),
  links: fc.record({
    url: fc.constantFrom('https://example.com/me', 'mailto:me@example.com'),
    kind: fc.constantFrom('website', 'email'),
    label: text,
  }),
};

const child = (path: string, translatable: readonly string[]) =>
  fc.record({
    values: childValues[path] ?? fc.constant({}),
    // A small range: ties on position are common and must be broken by id the same way.
    position: fc.integer({ min: 0, max: 3 }),
    // Any tag, the default language included: a portfolio's default can change after its
    // children were translated, and the read must cope as the old one did.
    translations: translationsOf(translatable, anyTags),
  });

const portfolioArb = fc
  .record({
    defaultLanguage: fc.constantFrom(...DEFAULT_LANGUAGES),
    title: name,
    summary: text,
    published: fc.boolean(),
    visibility: fc.constantFrom('public', 'private', 'public'),
    tags: anyTags,
    children: fc.record(
      Object.fromEntries(
        CHILD_RESOURCES.map((r) => [r.path, fc.array(child(r.path, r.translatable), { maxLength: 3 })]),
      ),
    ),
    media: fc.array(
      fc.record({
        status: fc.constantFrom('available', 'available', 'quarantined', 'staged'),
        thumbnail: fc.boolean(),
      }),
      { maxLength: 3 },
    ),
    // Bit masks choosing categories, a project's skills and a section's project.
    rel: fc.array(fc.nat({ max: 15 }), { minLength: 12, maxLength: 12 }),
  })
  .chain((p) =>
    // The API refuses a portfolio translation under its own default language.
    translationsOf(
      ['title', 'summary'],
      fc.constant(p.tags.filter((tag) => tag.toLowerCase() !== p.defaultLanguage.toLowerCase())),
    ).map((translations) => ({ ...p, translations })),
  );

type PortfolioSpec = typeof portfolioArb extends fc.Arbitrary<infer T> ? T : never;

async function insert(spec: PortfolioSpec): Promise<{ id: string; slug: string }> {
  const id = newId();
  const slug = `prop-${++slugCounter}-${id.slice(-6)}`;
  const now = t.clock.now();
  await portfolios.create({
    id,
    ownerId: owner.id,
    now,
    slug,
    title: spec.title,
    summary: spec.summary,
    published: spec.published,
    visibility: spec.visibility,
    defaultLanguage: spec.defaultLanguage,
    translations: spec.translations,
  });
  const projectIds: string[] = [];
  const skillIds: string[] = [];
  const pick = <T>(items: readonly T[], mask: number) => items.filter((_, i) => (mask >> i) & 1);
  const rel = (i: number) => spec.rel[i] ?? 0;
  await relations.setCategories('portfolios', id, pick(categoryIds, rel(0)));
  for (const resource of CHILD_RESOURCES) {
    const repo = new ChildRepository(t.deps.db, resource);
    for (const [i, c] of (spec.children[resource.path] ?? []).entries()) {
      const childId = newId();
      if (resource.path === 'projects') projectIds.push(childId);
      if (resource.path === 'skills') skillIds.push(childId);
      const values =
        resource.path === 'sections'
          ? {
              ...c.values,
              projectId: projectIds[rel(10 + (i % 2))] ?? null,
              displayStyle: ['text', 'cards', 'gallery'][i % 3],
            }
          : c.values;
      await repo.create({
        id: childId,
        portfolioId: id,
        position: c.position,
        translations: c.translations,
        values,
        now,
      });
      if (resource.path === 'skills')
        await relations.setCategories('skills', childId, pick(categoryIds, rel(7 + (i % 3))));
    }
  }
  for (const [i, projectId] of projectIds.entries()) {
    await relations.setCategories('projects', projectId, pick(categoryIds, rel(1 + (i % 3))));
    await relations.setSkills(projectId, id, pick(skillIds, rel(4 + (i % 3))));
  }
  for (const [i, m] of spec.media.entries()) {
    const variant = (v: string) => ({
      key: `prop/${id}/${i}/${v}.webp`,
      size: 10,
      sha256: '0'.repeat(64),
      contentType: 'image/webp',
      width: 4,
      height: 3,
    });
    await t.deps.db.query(
      `insert into media (id, portfolio_id, project_id, uploaded_by, kind, category, status, original_name, extension, size, width, height, variants)
       values ($1, $2, $3, $4, 'image', 'gallery', $5, $6, 'webp', 10, 4, 3, $7::jsonb)`,
      [
        newId(),
        id,
        projectIds[i] ?? null,
        owner.id,
        m.status,
        `photo ${i}.webp`,
        JSON.stringify(
          m.thumbnail
            ? { display: variant('display'), thumbnail: variant('thumbnail') }
            : { display: variant('display') },
        ),
      ],
    );
  }
  return { id, slug };
}

/** The answer, or the error code it failed with: both implementations must agree on either. */
async function outcome(read: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await read() };
  } catch (err) {
    if (err instanceof AppError) return { error: err.code, status: err.status };
    throw err;
  }
}

describe('the one-statement public read', () => {
  it('returns exactly what the six-query read returned, for any corpus, language and fallback', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(portfolioArb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.constantFrom(...REQUESTED), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        async (specs, langs, pick) => {
          const created = [];
          for (const spec of specs) created.push(await insert(spec));
          const site = created[pick % created.length]!;
          await portfolios.clearDefault(site.id, t.clock.now());
          await portfolios.update(site.id, { isDefault: true }, t.clock.now());
          for (const [i, lang] of langs.entries()) {
            const category = CATEGORY_FILTERS[(pick + i) % CATEGORY_FILTERS.length];
            for (const { slug } of created) {
              const actual = await outcome(() => t.app.content.public.getBySlug(slug, lang, [], { category }));
              const expected = await outcome(() => reference.getBySlug(slug, lang, category));
              expect(actual).toStrictEqual(expected);
            }
            expect(await outcome(() => t.app.content.public.getDefault(lang, [], { category }))).toStrictEqual(
              await outcome(() => reference.getDefault(lang, category)),
            );
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('answers the same 404 for a missing or malformed slug', async () => {
    for (const slug of ['no-such-portfolio', 'Bad Slug!', 'x']) {
      expect(await outcome(() => t.app.content.public.getBySlug(slug, 'es'))).toStrictEqual(
        await outcome(() => reference.getBySlug(slug, 'es')),
      );
    }
  });
});

// ---- how much work a read does ---------------------------------------------------------------

/**
 * Runs fn and returns how many statements it sent to the database. Only statements sent from
 * fn's own async chain count: the app's background loops (upload worker, key ring, revocation
 * cache) share the database and may run meanwhile.
 */
async function queriesDuring(fn: () => Promise<unknown>): Promise<number> {
  return (await statementsDuring(t.deps.db, fn)).length;
}

describe('queries per read', () => {
  let id: string;
  let slug: string;
  const actor = (): Actor => ({
    userId: owner.id,
    roles: ['user'],
    permissions: new Set(['portfolio:read', 'portfolio:write']),
  });

  beforeAll(async () => {
    const spec = fc.sample(portfolioArb, { numRuns: 1, seed: 16 })[0]!;
    ({ id, slug } = await insert({ ...spec, published: true, visibility: 'public' }));
    await insert({ ...spec, published: true, visibility: 'public' });
  });

  it('a public read by slug, with its media, is one statement', async () => {
    expect(await queriesDuring(() => t.app.content.public.getBySlug(slug, 'pt-BR'))).toBe(1);
  });

  it('a miss sends the same prepared statement whatever the slug or language: no parse or plan per read', async () => {
    // Parsing and planning the one statement cost more than running it (bench: docs/PUBLIC_READ.md),
    // so its text must never vary per request (values are parameters) and it is sent as prepared.
    const reads = [
      () => t.app.content.public.getBySlug(slug, 'pt-BR'),
      () => t.app.content.public.getBySlug(slug, undefined, ['fr-CA', 'es']),
      () => outcome(() => t.app.content.public.getBySlug('no-such-one', 'zh-Hant-TW')),
      () => t.app.content.public.getBySlug(slug, 'en', [], { category: 'prop-a' }),
    ];
    const sent = [];
    for (const read of reads) sent.push(...(await statementsDuring(t.deps.db, read)));
    expect(sent.length).toBeGreaterThanOrEqual(reads.length);
    expect(new Set(sent.map((s) => s.sql)).size).toBe(1);
    for (const s of sent) expect(s.options).toStrictEqual({ prepared: true });
  });

  it('the public default read is one statement', async () => {
    await portfolios.clearDefault(id, t.clock.now());
    await portfolios.update(id, { isDefault: true }, t.clock.now());
    expect(await queriesDuring(() => t.app.content.public.getDefault('es'))).toBe(1);
  });

  it('a miss (missing, draft) is one statement too, and a malformed slug none', async () => {
    expect(await queriesDuring(() => outcome(() => t.app.content.public.getBySlug('no-such-one', 'es')))).toBe(1);
    expect(await queriesDuring(() => outcome(() => t.app.content.public.getBySlug('BAD!', 'es')))).toBe(0);
  });

  it('an owner read of the portfolio, and of each list page, is one statement', async () => {
    expect(await queriesDuring(() => t.app.content.portfolios.get(actor(), id))).toBe(1);
    for (const resource of CHILD_RESOURCES) {
      expect(await queriesDuring(() => t.app.content.child(resource).list(actor(), id, { limit: 2 }))).toBe(1);
    }
  });

  it("another user's private portfolio and its lists stay 404 in that one statement", async () => {
    const other = await createUser(t.app);
    const stranger: Actor = {
      userId: other.id,
      roles: ['user'],
      permissions: new Set(['portfolio:read', 'portfolio:write']),
    };
    const { id: privateId } = await insert({
      ...fc.sample(portfolioArb, { numRuns: 1, seed: 7 })[0]!,
      visibility: 'private',
    });
    for (const resource of CHILD_RESOURCES) {
      const mine = await outcome(() => t.app.content.child(resource).list(stranger, privateId, {}));
      const missing = await outcome(() => t.app.content.child(resource).list(stranger, newId(), {}));
      expect(mine).toStrictEqual({ error: 'NOT_FOUND', status: 404 });
      expect(mine).toStrictEqual(missing);
    }
    // Over HTTP too: the same 404 body as a portfolio that does not exist.
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/portfolios/${privateId}/projects`,
      headers: other.auth,
    });
    const none = await t.app.inject({ method: 'GET', url: `/api/portfolios/${newId()}/projects`, headers: other.auth });
    expect(res.statusCode).toBe(404);
    expect({ ...res.json(), requestId: null }).toStrictEqual({ ...none.json(), requestId: null });
  });
});
