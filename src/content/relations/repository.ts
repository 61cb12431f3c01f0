/**
 * The SQL of relations: which categories a portfolio, project or skill carries, a project's
 * skills, and a section's project. Table names come from the constants below, never from a
 * request; every value is a $n parameter. Each method takes an optional transaction.
 */
import type { Queryable } from '../../platform/db/index.js';

/** The kinds that carry categories: link table and owner column. */
const CATEGORY_LINKS = {
  portfolios: { table: 'portfolio_categories', column: 'portfolio_id' },
  projects: { table: 'project_categories', column: 'project_id' },
  skills: { table: 'skill_categories', column: 'skill_id' },
} as const;
export type CategorizedKind = keyof typeof CATEGORY_LINKS;

export function isCategorized(kind: string): kind is CategorizedKind {
  return Object.hasOwn(CATEGORY_LINKS, kind);
}

/** The category type skill types became (migration 0014). */
export const SKILL_TYPE = 'skill-type';

/**
 * SQL expression of a row's relation as a JSON array of ids, in order, for the owner's reads (one
 * statement with the row). `idExpression` is the row's id column (`c.id`, `p.id`).
 */
export function relationIdsSelect(kind: string, relation: 'categoryIds' | 'skillIds', idExpression: string): string {
  if (relation === 'skillIds') {
    return `coalesce((select json_agg(l.skill_id order by l.position, l.skill_id) from project_skills l where l.project_id = ${idExpression}), '[]'::json)`;
  }
  if (!isCategorized(kind)) throw new Error(`${kind} carries no categories`);
  const link = CATEGORY_LINKS[kind];
  return `coalesce((select json_agg(l.category_id order by l.position, l.category_id) from ${link.table} l where l.${link.column} = ${idExpression}), '[]'::json)`;
}

export class RelationRepository {
  constructor(private readonly db: Queryable) {}

  /** How many of `ids` are categories; they stay (FOR SHARE) until the transaction ends. */
  async countCategories(ids: readonly string[], tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ id: string }>(`select id from categories where id = any($1::uuid[]) for share`, [
      ids,
    ]);
    return rows.length;
  }

  /** How many of `ids` are skills of this portfolio (locked FOR SHARE until the transaction ends). */
  async countSkillsOf(portfolioId: string, ids: readonly string[], tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ id: string }>(
      `select id from skills where id = any($1::uuid[]) and portfolio_id = $2 for share`,
      [ids, portfolioId],
    );
    return rows.length;
  }

  async isProjectOf(portfolioId: string, projectId: string, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query(`select 1 from projects where id = $1 and portfolio_id = $2 for share`, [
      projectId,
      portfolioId,
    ]);
    return rows.length > 0;
  }

  /** Replaces a row's categories with `ids`, in that order. */
  async setCategories(
    kind: CategorizedKind,
    ownerId: string,
    ids: readonly string[],
    tx: Queryable = this.db,
  ): Promise<void> {
    const { table, column } = CATEGORY_LINKS[kind];
    await tx.query(`delete from ${table} where ${column} = $1`, [ownerId]);
    if (ids.length === 0) return;
    await tx.query(
      `insert into ${table} (${column}, category_id, position)
       select $1, t.id, t.n - 1 from unnest($2::uuid[]) with ordinality as t(id, n)`,
      [ownerId, ids],
    );
  }

  /** Replaces a project's skills with `ids` (skills of `portfolioId`), in that order. */
  async setSkills(
    projectId: string,
    portfolioId: string,
    ids: readonly string[],
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(`delete from project_skills where project_id = $1`, [projectId]);
    if (ids.length === 0) return;
    await tx.query(
      `insert into project_skills (project_id, skill_id, portfolio_id, position)
       select $1, t.id, $2, t.n - 1 from unnest($3::uuid[]) with ordinality as t(id, n)`,
      [projectId, portfolioId, ids],
    );
  }

  /** A project leaves its portfolio: its links to that portfolio's skills go. */
  async unlinkProjectSkills(projectId: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(`delete from project_skills where project_id = $1`, [projectId]);
  }

  /** A skill leaves its portfolio: the projects there no longer list it. */
  async unlinkSkill(skillId: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(`delete from project_skills where skill_id = $1`, [skillId]);
  }

  /**
   * Links a skill to the `skill-type` category with this code, in place of any other skill-type
   * category it had (keeping its position among the others). No-op if there is no such category.
   */
  async setSkillType(skillId: string, code: string, tx: Queryable = this.db): Promise<void> {
    const removed = await tx.query<{ position: number }>(
      `delete from skill_categories sc using categories k
       where sc.skill_id = $1 and k.id = sc.category_id and k.type_code = '${SKILL_TYPE}'
       returning sc.position`,
      [skillId],
    );
    const position = removed.length > 0 ? Math.min(...removed.map((r) => r.position)) : null;
    await tx.query(
      `insert into skill_categories (skill_id, category_id, position)
       select $1, k.id, coalesce($3::int, (select coalesce(max(position) + 1, 0) from skill_categories where skill_id = $1))
       from categories k where k.type_code = '${SKILL_TYPE}' and k.code = $2
       on conflict (skill_id, category_id) do nothing`,
      [skillId, code, position],
    );
  }
}
