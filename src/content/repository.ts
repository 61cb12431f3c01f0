/**
 * The only SQL of the content module. Column and table names come from constants in this file or
 * from the child definitions (checked against an identifier pattern when they are defined), never
 * from a request; every value is a $n parameter. Each method takes an optional transaction.
 */
import type { Queryable } from '../platform/db/index.js';
import { relationIdsSelect } from './relations/repository.js';
import type { ChildResource } from './resource.js';

export interface PortfolioRow {
  id: string;
  ownerId: string;
  slug: string;
  title: string;
  summary: string;
  visibility: 'private' | 'public';
  published: boolean;
  /** When the schedule job publishes / unpublishes it (src/content/schedule/). */
  publishAt: Date | null;
  unpublishAt: Date | null;
  defaultLanguage: string;
  isDefault: boolean;
  translations: unknown;
  /** Its categories' ids, in order (relations/repository.ts). */
  categoryIds?: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** Writable portfolio columns: API name → column. Updates are built from this list only. */
const PORTFOLIO_COLUMNS = {
  slug: 'slug',
  title: 'title',
  summary: 'summary',
  visibility: 'visibility',
  published: 'published',
  publishAt: 'publish_at',
  unpublishAt: 'unpublish_at',
  defaultLanguage: 'default_language',
  isDefault: 'is_default',
  translations: 'translations',
} as const;
export type PortfolioWrite = { [K in keyof typeof PORTFOLIO_COLUMNS]?: PortfolioRow[K] | undefined };

const PORTFOLIO_SELECT = `p.id, p.owner_id as "ownerId", p.slug, p.title, p.summary, p.visibility, p.published,
  p.publish_at as "publishAt", p.unpublish_at as "unpublishAt",
  p.default_language as "defaultLanguage", p.is_default as "isDefault", p.translations,
  p.created_at as "createdAt", p.updated_at as "updatedAt",
  ${relationIdsSelect('portfolios', 'categoryIds', 'p.id')} as "categoryIds"`;

const quote = (identifier: string) => `"${identifier}"`;

/** Serialises a value for its parameter: JSON columns get text (pg would send an array as a SQL array). */
const param = (value: unknown, json: boolean) =>
  json && value !== null && value !== undefined ? JSON.stringify(value) : value;

export class PortfolioRepository {
  constructor(private readonly db: Queryable) {}

  /** `forUpdate` locks the row until the transaction ends (children count, default switch). */
  async get(
    id: string,
    tx: Queryable = this.db,
    options: { forUpdate?: boolean } = {},
  ): Promise<PortfolioRow | undefined> {
    const rows = await tx.query<PortfolioRow>(
      `select ${PORTFOLIO_SELECT} from portfolios p where p.id = $1${options.forUpdate ? ' for update' : ''}`,
      [id],
      // The owner read (GET /api/portfolios/:id): its plan is kept (platform/db QueryOptions).
      { prepared: !options.forUpdate },
    );
    return rows[0];
  }

  async getBySlug(slug: string, tx: Queryable = this.db): Promise<PortfolioRow | undefined> {
    const rows = await tx.query<PortfolioRow>(
      `select ${PORTFOLIO_SELECT} from portfolios p where lower(p.slug) = lower($1)`,
      [slug],
    );
    return rows[0];
  }

  async getDefault(tx: Queryable = this.db): Promise<PortfolioRow | undefined> {
    const rows = await tx.query<PortfolioRow>(`select ${PORTFOLIO_SELECT} from portfolios p where p.is_default`);
    return rows[0];
  }

  /** Keyset page by id (uuid v7, so creation order); `ownerId` undefined lists everyone's. */
  async list(
    query: { ownerId?: string | undefined; limit: number; after?: string | undefined },
    tx: Queryable = this.db,
  ): Promise<PortfolioRow[]> {
    return tx.query<PortfolioRow>(
      `select ${PORTFOLIO_SELECT} from portfolios p
       where ($1::uuid is null or p.owner_id = $1::uuid) and ($2::uuid is null or p.id > $2::uuid)
       order by p.id limit $3`,
      [query.ownerId ?? null, query.after ?? null, query.limit],
    );
  }

  async countByOwner(ownerId: string, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(`select count(*)::int as n from portfolios where owner_id = $1`, [
      ownerId,
    ]);
    return rows[0]?.n ?? 0;
  }

  async create(
    row: { id: string; ownerId: string; now: Date } & Required<Pick<PortfolioWrite, 'slug' | 'title'>> & PortfolioWrite,
    tx: Queryable = this.db,
  ): Promise<void> {
    const columns = ['id', 'owner_id', 'created_at', 'updated_at'];
    const values: unknown[] = [row.id, row.ownerId, row.now, row.now];
    const placeholders = ['$1', '$2', '$3', '$4'];
    for (const [name, column] of Object.entries(PORTFOLIO_COLUMNS) as [keyof typeof PORTFOLIO_COLUMNS, string][]) {
      const value = row[name];
      if (value === undefined) continue;
      columns.push(column);
      values.push(param(value, name === 'translations'));
      placeholders.push(name === 'translations' ? `$${values.length}::jsonb` : `$${values.length}`);
    }
    await tx.query(`insert into portfolios (${columns.join(', ')}) values (${placeholders.join(', ')})`, values);
  }

  async update(id: string, patch: PortfolioWrite, now: Date, tx: Queryable = this.db): Promise<void> {
    const values: unknown[] = [id, now];
    const sets = ['updated_at = $2'];
    for (const [name, column] of Object.entries(PORTFOLIO_COLUMNS) as [keyof typeof PORTFOLIO_COLUMNS, string][]) {
      const value = patch[name];
      if (value === undefined) continue;
      values.push(param(value, name === 'translations'));
      sets.push(`${column} = $${values.length}${name === 'translations' ? '::jsonb' : ''}`);
    }
    await tx.query(`update portfolios set ${sets.join(', ')} where id = $1`, values);
  }

  /**
   * Serialises default switches until the transaction ends. Row locks cannot do it: when no
   * portfolio is the default yet there is no row to lock, and two switches would race into the
   * unique index (one of them failing) instead of simply taking turns.
   */
  async lockDefault(tx: Queryable): Promise<void> {
    await tx.query(`select pg_advisory_xact_lock(hashtext('content.default_portfolio'))`);
  }

  /** Clears the site-default flag on every portfolio but `exceptId`; returns the ids it cleared. */
  async clearDefault(exceptId: string, now: Date, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `update portfolios set is_default = false, updated_at = $2 where is_default and id <> $1 returning id`,
      [exceptId, now],
    );
    return rows.map((r) => r.id);
  }

  async delete(id: string, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query(`delete from portfolios where id = $1 returning id`, [id]);
    return rows.length > 0;
  }
}

/** A child row as the API names it: id, portfolioId, the definition's fields, position, translations, times. */
export type ChildRow = Record<string, unknown> & {
  id: string;
  portfolioId: string;
  position: number;
  translations: unknown;
  createdAt: Date;
  updatedAt: Date;
};

/** A child with what authorization and validation need from its portfolio. */
export type ChildWithParent = ChildRow & { ownerId: string; portfolioDefaultLanguage: string };

/** Values for a child write, keyed by API field name; keys outside the definition are ignored. */
export type ChildWrite = Record<string, unknown>;

/** SQL for one child kind, generated from its definition. */
export class ChildRepository {
  private readonly table: string;
  private readonly select: string;
  private readonly fields: readonly { name: string; column: string; json: boolean }[];

  constructor(
    private readonly db: Queryable,
    resource: ChildResource,
  ) {
    this.table = quote(resource.table);
    this.fields = Object.entries(resource.fields).map(([name, f]) => ({
      name,
      column: quote(f.column),
      json: f.sql === 'jsonb',
    }));
    const fieldSelect = Object.entries(resource.fields).map(([name, f]) =>
      // pg turns a date into a JS Date at local midnight; as text it stays the calendar day.
      f.sql === 'date' ? `c.${quote(f.column)}::text as ${quote(name)}` : `c.${quote(f.column)} as ${quote(name)}`,
    );
    this.select = [
      'c.id',
      'c.portfolio_id as "portfolioId"',
      ...fieldSelect,
      'c.position',
      'c.translations',
      ...resource.relations.map((r) => `${relationIdsSelect(resource.path, r, 'c.id')} as ${quote(r)}`),
      'c.created_at as "createdAt"',
      'c.updated_at as "updatedAt"',
    ].join(', ');
  }

  /** The child with its portfolio's owner and default language (one query, for authorization). */
  async get(
    id: string,
    tx: Queryable = this.db,
    options: { forUpdate?: boolean } = {},
  ): Promise<ChildWithParent | undefined> {
    const rows = await tx.query<ChildWithParent>(
      `select ${this.select}, p.owner_id as "ownerId", p.default_language as "portfolioDefaultLanguage"
       from ${this.table} c join portfolios p on p.id = c.portfolio_id
       where c.id = $1${options.forUpdate ? ' for update of c' : ''}`,
      [id],
      { prepared: !options.forUpdate },
    );
    return rows[0];
  }

  /** Keyset page ordered by (position, id). */
  async listByPortfolio(
    portfolioId: string,
    page: { limit: number; after?: { position: number; id: string } | undefined },
    tx: Queryable = this.db,
  ): Promise<ChildRow[]> {
    return tx.query<ChildRow>(
      `select ${this.select} from ${this.table} c
       where c.portfolio_id = $1 and ($2::int is null or (c.position, c.id) > ($2::int, $3::uuid))
       order by c.position, c.id limit $4`,
      [portfolioId, page.after?.position ?? null, page.after?.id ?? null, page.limit],
    );
  }

  /**
   * The same page with the portfolio's owner, in one query, so the caller can authorize and list
   * without a second round trip. undefined when the portfolio does not exist.
   */
  async listWithOwner(
    portfolioId: string,
    page: { limit: number; after?: { position: number; id: string } | undefined },
    tx: Queryable = this.db,
  ): Promise<{ ownerId: string; rows: ChildRow[] } | undefined> {
    const rows = await tx.query<ChildRow & { _parentOwnerId: string }>(
      `select p.owner_id as "_parentOwnerId", c.* from portfolios p
       left join lateral (
         select ${this.select} from ${this.table} c
         where c.portfolio_id = p.id and ($2::int is null or (c.position, c.id) > ($2::int, $3::uuid))
         order by c.position, c.id limit $4
       ) c on true
       where p.id = $1
       order by c.position, c.id`,
      [portfolioId, page.after?.position ?? null, page.after?.id ?? null, page.limit],
      { prepared: true },
    );
    const first = rows[0];
    if (!first) return undefined;
    // A portfolio without (more) children still answers one row, with the child columns null.
    return {
      ownerId: first._parentOwnerId,
      rows: rows.filter((r) => r.id !== null).map(({ _parentOwnerId: _owner, ...row }) => row as ChildRow),
    };
  }

  async countByPortfolio(portfolioId: string, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(`select count(*)::int as n from ${this.table} where portfolio_id = $1`, [
      portfolioId,
    ]);
    return rows[0]?.n ?? 0;
  }

  /** Inserts; without a position the row goes after the portfolio's last one. */
  async create(
    row: {
      id: string;
      portfolioId: string;
      position?: number | undefined;
      translations?: unknown;
      values: ChildWrite;
      now: Date;
    },
    tx: Queryable = this.db,
  ): Promise<void> {
    const values: unknown[] = [
      row.id,
      row.portfolioId,
      row.now,
      row.position ?? null,
      param(row.translations ?? {}, true),
    ];
    const columns = ['id', 'portfolio_id', 'created_at', 'updated_at', 'position', 'translations'];
    const placeholders = [
      '$1',
      '$2',
      '$3',
      '$3',
      `coalesce($4::int, (select coalesce(max(position) + 1, 0) from ${this.table} where portfolio_id = $2))`,
      '$5::jsonb',
    ];
    for (const field of this.fields) {
      if (!Object.hasOwn(row.values, field.name) || row.values[field.name] === undefined) continue;
      values.push(param(row.values[field.name], field.json));
      columns.push(field.column);
      placeholders.push(`$${values.length}${field.json ? '::jsonb' : ''}`);
    }
    await tx.query(`insert into ${this.table} (${columns.join(', ')}) values (${placeholders.join(', ')})`, values);
  }

  async update(
    id: string,
    patch: {
      values: ChildWrite;
      position?: number | undefined;
      translations?: unknown;
      portfolioId?: string | undefined;
    },
    now: Date,
    tx: Queryable = this.db,
  ): Promise<void> {
    const values: unknown[] = [id, now];
    const sets = ['updated_at = $2'];
    const add = (column: string, value: unknown, json = false) => {
      values.push(param(value, json));
      sets.push(`${column} = $${values.length}${json ? '::jsonb' : ''}`);
    };
    for (const field of this.fields) {
      if (Object.hasOwn(patch.values, field.name) && patch.values[field.name] !== undefined) {
        add(field.column, patch.values[field.name], field.json);
      }
    }
    if (patch.position !== undefined) add('position', patch.position);
    if (patch.translations !== undefined) add('translations', patch.translations, true);
    if (patch.portfolioId !== undefined) add('portfolio_id', patch.portfolioId);
    await tx.query(`update ${this.table} set ${sets.join(', ')} where id = $1`, values);
  }

  async delete(id: string, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query(`delete from ${this.table} where id = $1 returning id`, [id]);
    return rows.length > 0;
  }

  /** Every id of a portfolio's rows of this kind (the set a reorder must name exactly). */
  async idsOf(portfolioId: string, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(`select id from ${this.table} where portfolio_id = $1`, [portfolioId]);
    return rows.map((r) => r.id);
  }

  /**
   * Positions 0..n-1 in the order of `ids` (already checked to be exactly the portfolio's rows),
   * in one statement; rows whose position does not change keep their updated_at.
   */
  async reorder(portfolioId: string, ids: readonly string[], now: Date, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ id: string }>(
      `update ${this.table} c set position = o.ord - 1, updated_at = $3
       from unnest($2::uuid[]) with ordinality o(id, ord)
       where c.id = o.id and c.portfolio_id = $1 and c.position <> o.ord - 1
       returning c.id`,
      [portfolioId, ids, now],
    );
    return rows.length;
  }
}
