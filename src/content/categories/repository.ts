/** The SQL of category types and categories. Every value is a $n parameter. */
import type { Queryable } from '../../platform/db/index.js';

export interface CategoryTypeRow {
  code: string;
  name: string;
  translations: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export interface CategoryRow {
  id: string;
  code: string;
  typeCode: string;
  name: string;
  translations: unknown;
  createdAt: Date;
  updatedAt: Date;
}

const TYPE_SELECT = `t.code, t.name, t.translations, t.created_at as "createdAt", t.updated_at as "updatedAt"`;
const CATEGORY_SELECT = `k.id, k.code, k.type_code as "typeCode", k.name, k.translations,
  k.created_at as "createdAt", k.updated_at as "updatedAt"`;

/** Ids of the portfolios whose rows carry a category (`$1`): the portfolio itself, its projects, its skills. */
const PORTFOLIOS_USING = `select l.portfolio_id as id from portfolio_categories l where l.category_id = $1
  union select p.portfolio_id from project_categories l join projects p on p.id = l.project_id where l.category_id = $1
  union select s.portfolio_id from skill_categories l join skills s on s.id = l.skill_id where l.category_id = $1`;

export class CategoryRepository {
  constructor(private readonly db: Queryable) {}

  async listTypes(tx: Queryable = this.db): Promise<CategoryTypeRow[]> {
    return tx.query<CategoryTypeRow>(`select ${TYPE_SELECT} from category_types t order by t.code collate "C"`);
  }

  /** The type, locked (FOR SHARE) until the transaction ends, so it cannot go while a category joins it. */
  async getType(code: string, tx: Queryable = this.db): Promise<CategoryTypeRow | undefined> {
    const rows = await tx.query<CategoryTypeRow>(
      `select ${TYPE_SELECT} from category_types t where t.code = $1 for share`,
      [code],
    );
    return rows[0];
  }

  async countTypes(tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(`select count(*)::int as n from category_types`);
    return rows[0]?.n ?? 0;
  }

  async lockTypes(tx: Queryable): Promise<void> {
    await tx.query(`select pg_advisory_xact_lock(hashtext('content.category_types'))`);
  }

  async createType(
    row: { code: string; name: string; translations: unknown; now: Date },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into category_types (code, name, translations, created_at, updated_at) values ($1, $2, $3::jsonb, $4, $4)`,
      [row.code, row.name, JSON.stringify(row.translations ?? {}), row.now],
    );
  }

  async list(typeCode: string | undefined, tx: Queryable = this.db): Promise<CategoryRow[]> {
    return tx.query<CategoryRow>(
      `select ${CATEGORY_SELECT} from categories k where ($1::text is null or k.type_code = $1)
       order by k.type_code collate "C", k.code collate "C"`,
      [typeCode ?? null],
    );
  }

  async get(
    id: string,
    tx: Queryable = this.db,
    options: { forUpdate?: boolean } = {},
  ): Promise<CategoryRow | undefined> {
    const rows = await tx.query<CategoryRow>(
      `select ${CATEGORY_SELECT} from categories k where k.id = $1${options.forUpdate ? ' for update' : ''}`,
      [id],
    );
    return rows[0];
  }

  async count(tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(`select count(*)::int as n from categories`);
    return rows[0]?.n ?? 0;
  }

  async lockCategories(tx: Queryable): Promise<void> {
    await tx.query(`select pg_advisory_xact_lock(hashtext('content.categories'))`);
  }

  async create(
    row: { id: string; typeCode: string; code: string; name: string; translations: unknown; now: Date },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into categories (id, type_code, code, name, translations, created_at, updated_at)
       values ($1, $2, $3, $4, $5::jsonb, $6, $6)`,
      [row.id, row.typeCode, row.code, row.name, JSON.stringify(row.translations ?? {}), row.now],
    );
  }

  async update(
    id: string,
    patch: {
      code?: string | undefined;
      typeCode?: string | undefined;
      name?: string | undefined;
      translations?: unknown;
    },
    now: Date,
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `update categories set code = coalesce($2, code), type_code = coalesce($3, type_code), name = coalesce($4, name),
         translations = coalesce($5::jsonb, translations), updated_at = $6
       where id = $1`,
      [
        id,
        patch.code ?? null,
        patch.typeCode ?? null,
        patch.name ?? null,
        patch.translations === undefined ? null : JSON.stringify(patch.translations),
        now,
      ],
    );
  }

  async delete(id: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(`delete from categories where id = $1`, [id]);
  }

  /** The portfolios whose public read shows this category (their own, a project's or a skill's). */
  async portfoliosUsing(id: string, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(PORTFOLIOS_USING, [id]);
    return rows.map((r) => r.id);
  }

  /** How many portfolios, projects and skills carry this category. */
  async usage(id: string, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(
      `select ((select count(*) from portfolio_categories where category_id = $1)
        + (select count(*) from project_categories where category_id = $1)
        + (select count(*) from skill_categories where category_id = $1))::int as n`,
      [id],
    );
    return rows[0]?.n ?? 0;
  }
}
