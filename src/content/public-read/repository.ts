/**
 * The public read's SQL: the one-statement read of a published portfolio, and the content
 * versions that say whether a cached copy of it is still current. Column and table names come
 * from constants and the child definitions, never from a request; every value is a $n parameter.
 */
import type { Queryable } from '../../platform/db/index.js';
import type { ChildResource } from '../resource.js';
import { MAX_READ_CHAIN } from '../translations.js';

const quote = (identifier: string) => `"${identifier}"`;
/**
 * Every statement here is a constant of this module, built once: the database keeps its plan
 * (src/platform/db, QueryOptions). Parsing and planning the read cost more than running it.
 */
const PREPARED = { prepared: true } as const;
/** Fallbacks followed this deep at most (a chain is checked for loops when it is written). */
const MAX_FALLBACK_DEPTH = 10;

/**
 * What makes a portfolio visible to anonymous readers: published, public, and its owner's
 * account not disabled (as the contact form already required). `p` is the portfolio.
 */
const PUBLIC_PORTFOLIO = `p.published and p.visibility = 'public'
  and exists (select 1 from users u where u.id = p.owner_id and not u.disabled)`;
/** Which portfolio a public route names: by slug (case-insensitive, $1), or the site default. */
const BY_SLUG = 'lower(p.slug) = lower($1::text)';
const BY_DEFAULT = 'p.is_default';
/**
 * A preview (src/content/preview/) shows a portfolio by id ($1) as if it were published and
 * public: every condition of PUBLIC_PORTFOLIO but those two.
 */
const BY_ID = 'p.id = $1::uuid';
const PREVIEWABLE = 'exists (select 1 from users u where u.id = p.owner_id and not u.disabled)';

/** A public route's target: a slug, or the site default portfolio. */
export type PublicTarget = { slug: string } | { default: true };

/** The version of the portfolio a public route names right now. */
export interface CurrentVersion {
  id: string;
  version: string;
}

/**
 * Content versions. `bump` runs in the writer's transaction (see PublicReadChanges), so a version
 * never moves without the change it stands for, nor a change without its version.
 */
export class PublicVersionRepository {
  constructor(private readonly db: Queryable) {}

  /** Raises the versions of these portfolios; returns the ids that exist. */
  async bump(portfolioIds: readonly string[], tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `update portfolios set public_version = public_version + 1 where id = any($1::uuid[]) returning id`,
      [portfolioIds],
    );
    return rows.map((r) => r.id);
  }

  /** Raises every portfolio's version (a change to all content, such as a language removed). */
  async bumpAll(tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `update portfolios set public_version = public_version + 1 returning id`,
    );
    return rows.map((r) => r.id);
  }

  /** Raises the versions of every portfolio of an owner (their account was disabled or enabled). */
  async bumpOwner(ownerId: string, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `update portfolios set public_version = public_version + 1 where owner_id = $1 returning id`,
      [ownerId],
    );
    return rows.map((r) => r.id);
  }

  /**
   * The same bump as one clause of another module's statement (a data-modifying CTE), so a write
   * there and its version move together even outside a transaction. `portfolioIds`: a subquery
   * yielding portfolio ids, built from that module's constants. Returns the bumped ids as `id`.
   */
  static bumpClause(portfolioIds: string): string {
    return `update portfolios set public_version = public_version + 1 where id in (${portfolioIds}) returning id`;
  }

  /** Which public portfolio the target names now, with its version; undefined when none. */
  async current(target: PublicTarget, tx: Queryable = this.db): Promise<CurrentVersion | undefined> {
    const bySlug = 'slug' in target;
    const rows = await tx.query<CurrentVersion>(
      `select p.id, p.public_version::text as version from portfolios p
       where ${bySlug ? BY_SLUG : BY_DEFAULT} and ${PUBLIC_PORTFOLIO}`,
      bySlug ? [target.slug] : [],
      PREPARED,
    );
    return rows[0];
  }
}

/** What a public route's target holds now: its portfolio, version and stored answer if current. */
export interface StoredRead {
  id: string;
  version: string;
  /** The stored bytes for the selector, only when rendered from `version` in `format`; else null. */
  body: string | null;
  /** When the stored answer's first signed link expires, ms; null when it has none. */
  linksExpireAt: number | null;
}

/** A rendered answer to keep (see PublicSnapshotRepository.store). */
export interface RenderedRead {
  portfolioId: string;
  selector: string;
  version: string;
  format: string;
  body: string;
  linksExpireAt: number | null;
}

/** The stored answer for a target (`where`), current only: see PublicSnapshotRepository.lookup. */
const snapshotLookup = (where: string, selector: string, format: string) =>
  `select p.id, p.public_version::text as version, s.body, s.links_expire_at as "linksExpireAt"
   from portfolios p left join public_snapshots s on s.portfolio_id = p.id and s.selector = ${selector}
     and s.version = p.public_version and s.format = ${format}
   where ${where} and ${PUBLIC_PORTFOLIO}`;
const SNAPSHOT_LOOKUP = {
  bySlug: snapshotLookup(BY_SLUG, '$2::text', '$3::text'),
  byDefault: snapshotLookup(BY_DEFAULT, '$1::text', '$2::text'),
};

/**
 * Stored answers (table public_snapshots, docs/PUBLIC_READ.md "Stored answers"): the bytes a
 * render produced, per portfolio and language, stamped with the content version they came from.
 * `lookup` is a node's whole cache miss when one is current: the visibility rule, the version and
 * the stored bytes in one statement (a primary-key read next to the portfolio's row).
 */
export class PublicSnapshotRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * The portfolio the target names now (undefined: none is public, the read's 404), with the
   * stored answer for `selector` when it was rendered from its current version in `format`.
   */
  async lookup(target: PublicTarget, selector: string, format: string): Promise<StoredRead | undefined> {
    const rows =
      'slug' in target
        ? await this.db.query<StoredRead>(SNAPSHOT_LOOKUP.bySlug, [target.slug, selector, format], PREPARED)
        : await this.db.query<StoredRead>(SNAPSHOT_LOOKUP.byDefault, [selector, format], PREPARED);
    const row = rows[0];
    if (row && row.linksExpireAt !== null) row.linksExpireAt = Number(row.linksExpireAt);
    return row;
  }

  /**
   * Keeps a render unless a newer one is there: a render of an older version (one that began
   * before a write and finished after it) never replaces a newer version's; for the same version
   * a new format or later-expiring links replace it. Nothing is kept for a deleted portfolio.
   */
  async store(r: RenderedRead): Promise<void> {
    await this.db.query(
      `insert into public_snapshots as s (portfolio_id, selector, version, format, body, links_expire_at)
       select $1::uuid, $2::text, $3::bigint, $4::text, $5::text, $6::float8
       where exists (select 1 from portfolios p where p.id = $1::uuid)
       on conflict (portfolio_id, selector) do update
         set version = excluded.version, format = excluded.format, body = excluded.body,
           links_expire_at = excluded.links_expire_at, rendered_at = now()
         where s.version < excluded.version
           or (s.version = excluded.version and (s.format <> excluded.format
             or coalesce(s.links_expire_at, 'infinity') < coalesce(excluded.links_expire_at, 'infinity')))`,
      [r.portfolioId, r.selector, r.version, r.format, r.body, r.linksExpireAt],
      PREPARED,
    );
  }
}

/** A public read as the one statement returns it: texts already resolved for the language. */
export type PublicReadRow = Record<string, unknown> & {
  id: string;
  slug: string;
  title: string;
  summary: string;
  language: string;
  defaultLanguage: string;
  availableLanguages: string[];
  updatedAt: Date;
  /** The portfolio's content version (public_version) in the same snapshot as the texts. */
  version: string;
  /** The media subquery's JSON, when a media source is set. */
  media?: unknown;
  /** The portfolio's categories, names resolved (JSON). */
  categories: unknown;
};

/**
 * SQL for another module's part of the public read: a parenthesised subquery yielding one JSON
 * value, given the SQL expression of the portfolio id (e.g. `pf.id`) and those of the read's
 * negotiated language chain (`ch.language`, the steps `ch.c1`..`ch.c6`, the portfolio's default language).
 * Built from that module's constants only, never from a request.
 */
export type PublicReadFragment = (
  portfolioIdExpression: string,
  language: { language: string; steps: readonly string[]; defaultLanguage: string },
) => string;

const FIELD_NAME = /^[a-z][A-Za-z0-9]{0,62}$/;
/** The media fragment's view of the read's language chain (the `ch` CTE and the portfolio). */
const MEDIA_CHAIN = {
  language: 'ch.language',
  steps: Array.from({ length: MAX_READ_CHAIN }, (_, i) => `ch.c${i + 1}`),
  defaultLanguage: 'pf.default_language',
};

/** `translations -> tag ->> field`, only when it is a string (as asTranslations reads it). */
function translated(translations: string, tag: string, field: string): string {
  if (!FIELD_NAME.test(field)) throw new Error(`bad field name ${field}`);
  return `case when jsonb_typeof(${translations} -> ${tag} -> '${field}') = 'string' then ${translations} -> ${tag} ->> '${field}' end`;
}

/**
 * The plain field, or its text for the first entry of the read's language chain that has one
 * (`ch.c1` .. `ch.c6`: readChain in src/content/translations.ts). Site categories use `cch`: the
 * same chain, relative to the site default language (the language of their plain names) instead
 * of the portfolio's.
 */
function localized(translations: string, plain: string, field: string, chain: 'ch' | 'cch' = 'ch'): string {
  const steps = Array.from({ length: MAX_READ_CHAIN }, (_, i) => translated(translations, `${chain}.c${i + 1}`, field));
  return `coalesce(${steps.join(', ')}, ${plain})`;
}

/**
 * readChain in SQL, as a `text[]`: the language, the declared fallbacks (`d.codes`), its primary
 * language unless the plain field is already in it, then the site default (`sd.code`); each tag
 * once, never the plain field's language, at most MAX_READ_CHAIN; empty when the read is in the
 * plain field's language.
 */
function chainArray(language: string, plainLanguage: string): string {
  const primary = `split_part(lower(${language}), '-', 1)`;
  return `case when lower(${language}) = lower(${plainLanguage}) then '{}'::text[] else array(
      select (array_agg(u.tag order by u.i))[1]
      from unnest(array[${language}]::text[] || d.codes
        || case when ${primary} <> lower(${language}) and ${primary} <> split_part(lower(${plainLanguage}), '-', 1)
             then array[${primary}] else '{}'::text[] end
        || array[sd.code]::text[]) with ordinality u(tag, i)
      where lower(u.tag) <> lower(${plainLanguage})
      group by lower(u.tag) order by min(u.i) limit ${MAX_READ_CHAIN}) end`;
}

/** c1 .. c6 of a chain array column. */
const chainColumns = (array: string) =>
  Array.from({ length: MAX_READ_CHAIN }, (_, i) => `${array}[${i + 1}] as c${i + 1}`).join(', ');

/** Optional filters of a public read (the query string): `category` keeps projects carrying that category code. */
export interface PublicFilter {
  category?: string | null | undefined;
}

/** The link table of each kind that carries categories, and its owner column. */
const CATEGORY_LINKS: Readonly<Record<string, { table: string; column: string }>> = {
  portfolios: { table: 'portfolio_categories', column: 'portfolio_id' },
  projects: { table: 'project_categories', column: 'project_id' },
  skills: { table: 'skill_categories', column: 'skill_id' },
};
/** The kind `?category=` filters. */
const CATEGORY_FILTERED = 'projects';

/** The top-level keys of a translations value whose entries are objects, in jsonb key order. */
const translationKeys = (value: string) =>
  `jsonb_each(case when jsonb_typeof(${value}) = 'object' then ${value} else '{}'::jsonb end) with ordinality e(key, value, ord)`;

/** A kind's path as part of a CTE name (`r_projects`): checked, since it becomes SQL. */
const KIND = /^[a-z][a-z0-9_]{0,40}$/;
const kindName = (prefix: string, path: string) => {
  if (!KIND.test(path)) throw new Error(`bad kind ${path}`);
  return `${prefix}_${path}`;
};

/**
 * The translations of every row of `rows` (a CTE with `id` and `translations`) resolved once for
 * the read's chain (`ch.chain`): one JSON object per row holding, for each field, the string of the
 * first chain entry that has one (localize in translations.ts: only object entries and string
 * leaves count). A field then reads `coalesce(t ->> 'field', plain)`: one lookup, whatever the
 * chain's length. No row when the chain is empty (a read in the plain field's language).
 */
const resolvedTranslations = (rows: string, chain = 'ch') =>
  `select x.id, jsonb_object_agg(x.key, x.value) as t from (
      select distinct on (r.id, f.key) r.id, f.key, f.value
      from ${rows} r cross join ${chain} cross join unnest(${chain}.chain) with ordinality u(tag, i)
        cross join jsonb_each(case when jsonb_typeof(r.translations -> u.tag) = 'object' then r.translations -> u.tag else '{}'::jsonb end) f
      where jsonb_typeof(f.value) = 'string'
      order by r.id, f.key, u.i) x
    group by x.id`;

/** A field resolved from a row's resolvedTranslations (alias `t`), else the plain value. */
function resolved(t: string, plain: string, field: string): string {
  if (!FIELD_NAME.test(field)) throw new Error(`bad field name ${field}`);
  return `coalesce(${t}.t ->> '${field}', ${plain})`;
}

/**
 * The anonymous read of a portfolio in ONE statement: the portfolio (published and public only),
 * the language negotiated against every tag it and its children carry, its five child lists in
 * order with each translatable field resolved for that language (falling back field by field to
 * the default language), and, when set, the available media. Same rules as translations.ts
 * (negotiateLanguage, languageChain, localize), expressed in SQL; the property test in
 * src/content/one-query-read.test.ts holds it to the six-query read it replaced.
 */
export class PublicReadRepository {
  private media: PublicReadFragment | null = null;
  private sql: { bySlug: string; byDefault: string; preview: string } | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly children: readonly ChildResource[],
    private readonly portfolioTranslatable: readonly string[],
  ) {}

  /** Adds the media subquery to the statement (set once by the uploads module). */
  setMedia(fragment: PublicReadFragment): void {
    this.media = fragment;
    this.sql = null;
  }

  get hasMedia(): boolean {
    return this.media !== null;
  }

  /** The statement's text (media part included): what a stored answer's format depends on here. */
  get statementText(): string {
    return this.statements().bySlug;
  }

  /** A published, public portfolio by slug (case-insensitive), or undefined. */
  async bySlug(
    slug: string,
    lang: string | null,
    tx: Queryable = this.db,
    filter: PublicFilter = {},
  ): Promise<PublicReadRow | undefined> {
    const rows = await tx.query<PublicReadRow>(
      this.statements().bySlug,
      [slug, lang, filter.category ?? null],
      PREPARED,
    );
    return rows[0];
  }

  /** The site default portfolio when it is published and public, or undefined. */
  async byDefault(
    lang: string | null,
    tx: Queryable = this.db,
    filter: PublicFilter = {},
  ): Promise<PublicReadRow | undefined> {
    const rows = await tx.query<PublicReadRow>(this.statements().byDefault, [lang, filter.category ?? null], PREPARED);
    return rows[0];
  }

  /**
   * A portfolio by id as if it were published and public (a preview link's read), or undefined.
   * The same statement as the public read in every other respect; never cached.
   */
  async preview(id: string, lang: string | null, tx: Queryable = this.db): Promise<PublicReadRow | undefined> {
    const rows = await tx.query<PublicReadRow>(this.statements().preview, [id, lang, null], PREPARED);
    return rows[0];
  }

  private statements(): { bySlug: string; byDefault: string; preview: string } {
    this.sql ??= {
      bySlug: this.build(BY_SLUG, '$2::text', PUBLIC_PORTFOLIO, '$3::text'),
      byDefault: this.build(BY_DEFAULT, '$1::text', PUBLIC_PORTFOLIO, '$2::text'),
      preview: this.build(BY_ID, '$2::text', PREVIEWABLE, '$3::text'),
    };
    return this.sql;
  }

  private build(where: string, lang: string, visible: string = PUBLIC_PORTFOLIO, category = 'null::text'): string {
    const kinds = this.children;
    const skills = kinds.find((r) => r.path === 'skills');
    // Each child list once (r_<kind>), bounded and ordered as the owner's list pages are, with its
    // rank; unpublished rows of a publishable kind (projects) are not there at all. Everything else
    // (the language tags, the lists, nested rows, linked skills) reads these.
    const rowCtes = kinds.map(
      (r) => `${kindName('r', r.path)} as materialized (
        select c.*, row_number() over (order by c.position, c.id) as rn
        from pf, ${quote(r.table)} c where c.portfolio_id = pf.id${r.publishable ? ' and c.published' : ''}
        order by c.position, c.id limit ${Number(r.maxPerPortfolio)})`,
    );
    // Each kind's translations resolved for the chain, one pass per kind (t_<kind>).
    const translationCtes = kinds.map(
      (r) => `${kindName('t', r.path)} as materialized (${resolvedTranslations(kindName('r', r.path))})`,
    );
    // Language tags in the order the reader first meets them: default, portfolio, then each
    // child kind's rows in order. negotiateLanguage takes the first match in this order.
    const tagSources = [
      `select pf.default_language as tag, 0::bigint as src, 0::bigint as rn, 0::bigint as ord from pf`,
      `select e.key, 1::bigint, 0::bigint, e.ord from pf, ${translationKeys('pf.translations')} where jsonb_typeof(e.value) = 'object'`,
      ...kinds.map(
        (r, i) =>
          `select e.key, ${i + 2}::bigint, c.rn, e.ord from ${kindName('r', r.path)} c, ${translationKeys('c.translations')}
           where jsonb_typeof(e.value) = 'object'`,
      ),
    ];
    // Categories of the kinds that carry them, grouped by row in one pass (k_<kind>), names
    // resolved once per category (kat) along the site default's chain (cch).
    const categorized = kinds.filter((r) => r.relations.includes('categoryIds'));
    const categoryRef = `json_build_object('id', k.id, 'code', k.code, 'typeCode', k.type_code, 'name', k.name)`;
    const linkOf = (kind: string) => {
      const link = CATEGORY_LINKS[kind];
      if (!link) throw new Error(`no categories for ${kind}`);
      return link;
    };
    const portfolioLink = linkOf('portfolios');
    const categoryCtes = categorized.map((r) => {
      const link = linkOf(r.path);
      return `${kindName('k', r.path)} as materialized (
        select l.${quote(link.column)} as id, json_agg(${categoryRef} order by l.position, k.id) as j
        from ${quote(link.table)} l join kat k on k.id = l.category_id
        where l.${quote(link.column)} in (select id from ${kindName('r', r.path)}) group by l.${quote(link.column)})`;
    });
    const usedCategories = [
      `select l.category_id from pf, ${quote(portfolioLink.table)} l where l.${quote(portfolioLink.column)} = pf.id`,
      ...categorized.map((r) => {
        const link = linkOf(r.path);
        return `select l.category_id from ${quote(link.table)} l where l.${quote(link.column)} in (select id from ${kindName('r', r.path)})`;
      }),
    ];
    // A project's skills (skills of the same portfolio: the link's key says so), grouped by project.
    const linkedCtes = skills
      ? kinds
          .filter((r) => r.relations.includes('skillIds'))
          .map(
            (r) => `${kindName('s', r.path)} as materialized (
        select l.project_id as id, json_agg(json_build_object('id', s.id, 'name', ${resolved('st', 's.name', 'name')},
            'type', s.type, 'level', s.level) order by l.position, s.id) as j
        from project_skills l join ${kindName('r', skills.path)} s on s.id = l.skill_id and s.portfolio_id = l.portfolio_id
          left join ${kindName('t', skills.path)} st on st.id = s.id
        where l.project_id in (select id from ${kindName('r', r.path)}) group by l.project_id)`,
          )
      : [];
    // One row of a kind as JSON (`a`: the row's alias) and the joins it needs: its public fields
    // (texts from t_<kind>), its relations, and the rows of kinds nested in it (n_<inner>).
    const itemOf = (r: ChildResource, a: string): { json: string; joins: string } => {
      const pairs = [`'id', ${a}.id`];
      const joins = [`left join ${kindName('t', r.path)} ${a}t on ${a}t.id = ${a}.id`];
      for (const [name, f] of Object.entries(r.fields)) {
        if (f.ownerOnly) continue;
        if (!FIELD_NAME.test(name)) throw new Error(`bad field name ${name}`);
        const plain = f.sql === 'date' ? `${a}.${quote(f.column)}::text` : `${a}.${quote(f.column)}`;
        pairs.push(`'${name}', ${f.translatable ? resolved(`${a}t`, plain, name) : plain}`);
      }
      if (r.relations.includes('categoryIds')) {
        joins.push(`left join ${kindName('k', r.path)} ${a}k on ${a}k.id = ${a}.id`);
        pairs.push(`'categories', coalesce(${a}k.j, '[]'::json)`);
      }
      if (r.relations.includes('skillIds') && skills) {
        joins.push(`left join ${kindName('s', r.path)} ${a}s on ${a}s.id = ${a}.id`);
        pairs.push(`'linkedSkills', coalesce(${a}s.j, '[]'::json)`);
      }
      for (const inner of kinds) {
        if (inner.nestedIn?.path !== r.path) continue;
        const alias = `${a}${kindName('n', inner.path)}`;
        joins.push(`left join ${kindName('n', inner.path)} ${alias} on ${alias}.id = ${a}.id`);
        pairs.push(`'${inner.path}', coalesce(${alias}.j, '[]'::json)`);
      }
      return { json: `json_build_object(${pairs.join(', ')})`, joins: joins.join(' ') };
    };
    // Rows nested in another kind, grouped by their parent in one pass (n_<kind>).
    const nestedCtes = kinds
      .filter((inner) => inner.nestedIn)
      .map((inner) => {
        const column = quote(inner.fields[inner.nestedIn!.field]?.column ?? '');
        const item = itemOf(inner, 'n');
        return `${kindName('n', inner.path)} as materialized (
        select n.${column} as id, json_agg(${item.json} order by n.position, n.id) as j
        from ${kindName('r', inner.path)} n ${item.joins} where n.${column} is not null group by n.${column})`;
      });
    const lists = kinds.map((r) => {
      const filters: string[] = [];
      // Rows that belong to another row are listed under it, not here.
      if (r.nestedIn) filters.push(`c.${quote(r.fields[r.nestedIn.field]?.column ?? '')} is null`);
      if (r.path === CATEGORY_FILTERED) {
        filters.push(`(${category} is null or exists (select 1 from ${quote(CATEGORY_LINKS[r.path]!.table)} fl
          join categories fk on fk.id = fl.category_id
          where fl.${quote(CATEGORY_LINKS[r.path]!.column)} = c.id and fk.code = lower(${category})))`);
      }
      const item = itemOf(r, 'c');
      return `coalesce((select json_agg(${item.json} order by c.position, c.id)
        from ${kindName('r', r.path)} c ${item.joins}${filters.length > 0 ? ` where ${filters.join(' and ')}` : ''}), '[]'::json) as ${quote(r.path)}`;
    });
    const head = this.portfolioTranslatable.map(
      (name) => `${resolved('pt', `pf.${quote(name)}`, name)} as ${quote(name)}`,
    );
    const lower = `lower(${lang})`;
    const primary = `split_part(lower(${lang}), '-', 1)`;
    // MATERIALIZED: each CTE is computed once, whatever refers to it.
    return `with recursive pf as materialized (
        select p.id, p.slug, p.title, p.summary, p.default_language, p.translations, p.updated_at, p.public_version
        from portfolios p where ${where} and ${visible}
      ),
      ${rowCtes.join(',\n      ')},
      tags as materialized (
        select t.tag, min(array[t.src, t.rn, t.ord]) as ord from (${tagSources.join('\n union all ')}) t group by t.tag
      ),
      lang as materialized (
        select coalesce(
          (select t.tag from tags t where lower(t.tag) = ${lower} order by t.ord limit 1),
          (select t.tag from tags t where lower(t.tag) = ${primary} order by t.ord limit 1),
          (select t.tag from tags t where split_part(lower(t.tag), '-', 1) = ${primary} order by t.ord limit 1),
          pf.default_language) as language, pf.default_language as dl
        from pf
      ),
      sd as materialized (
        select coalesce((select g.code from languages g where g.is_default limit 1), 'en') as code
      ),
      -- The fallbacks the site languages declare for the read's language, depth first (each
      -- fallback followed by its own), enabled ones only: declaredChain, walked here.
      walk(code, key) as (
        select g.code, array[0]::bigint[] from languages g, lang l where g.enabled and lower(g.code) = lower(l.language)
        union all
        select f.code, w.key || fb.ord
        from walk w
          join languages g on g.code = w.code
          cross join lateral unnest(g.fallback) with ordinality fb(code, ord)
          join languages f on f.code = fb.code and f.enabled
        where cardinality(w.key) <= ${MAX_FALLBACK_DEPTH}
      ),
      d as materialized (
        select coalesce(array_agg(x.code order by x.k), '{}'::text[]) as codes
        from (select w.code, min(w.key) as k from walk w group by w.code) x
      ),
      -- The chain once, as an array (OFFSET 0 keeps it from being inlined into each column).
      ch as materialized (
        select l.language, x.c as chain, ${chainColumns('x.c')}
        from lang l, d, sd, lateral (select ${chainArray('l.language', 'l.dl')} as c offset 0) x
      ),
      cch as materialized (
        select ${chainColumns('x.c')}
        from lang l, d, sd, lateral (select ${chainArray('l.language', 'sd.code')} as c offset 0) x
      ),
      t_pf as materialized (${resolvedTranslations('pf')}),
      ${translationCtes.join(',\n      ')},
      kat as materialized (
        select k.id, k.code, k.type_code, ${localized('k.translations', 'k.name', 'name', 'cch')} as name
        from categories k cross join cch where k.id in (${usedCategories.join(' union all ')})
      ),
      ${[...categoryCtes, ...linkedCtes, ...nestedCtes].join(',\n      ')}
      select pf.id, pf.slug, ${head.join(', ')}, ch.language, pf.default_language as "defaultLanguage",
        (select json_agg(t.tag order by t.tag <> pf.default_language, t.tag collate "C") from tags t) as "availableLanguages",
        pf.updated_at as "updatedAt", pf.public_version::text as version,
        coalesce((select json_agg(${categoryRef} order by l.position, k.id)
          from ${quote(portfolioLink.table)} l join kat k on k.id = l.category_id
          where l.${quote(portfolioLink.column)} = pf.id), '[]'::json) as categories,
        ${lists.join(',\n        ')}${this.media ? `,\n        ${this.media('pf.id', MEDIA_CHAIN)} as media` : ''}
      from pf cross join ch left join t_pf pt on pt.id = pf.id`;
  }
}
