/**
 * Relations of content rows (issue 17 item 4; docs/CONTENT.md), checked and written inside the
 * transaction of the write that carries them:
 *
 * - `categoryIds` (portfolios, projects, skills): each must be a category; the list replaces the
 *   row's categories, in order (400 UNKNOWN_CATEGORY).
 * - `skillIds` (projects): each must be a skill of the project's portfolio (400
 *   SKILL_NOT_IN_PORTFOLIO, the same for a missing id, another portfolio's and another user's,
 *   so nothing about other rows is revealed). The link table's keys hold the database to it too.
 * - `projectId` (sections): a project of the section's portfolio (400 PROJECT_NOT_IN_PORTFOLIO).
 *
 * Moves: a project that moves to another portfolio takes its sections along (the composite key
 * cascades) and leaves its skill links behind (they named the old portfolio's skills) unless the
 * same request gives new `skillIds`; a skill that moves leaves the old portfolio's projects; a
 * section that moves without a new `projectId` leaves its project.
 *
 * Skill types: `type` is kept for compatibility and mirrored into the skill's `skill-type`
 * category: a write of `type` (or a new skill without categoryIds) links the skill-type
 * category of that code in place of the old one.
 */
import type { Queryable } from '../../platform/db/index.js';
import type { ChildResource } from '../resource.js';
import { relationErrors } from './errors.js';
import { isCategorized, RelationRepository } from './repository.js';

/** A write of a row, as the relations see it. */
export interface RelationWrite {
  /** The row's id (known before the insert: ids come from the app). */
  id: string;
  /** The portfolio the row is in after the write. */
  portfolioId: string;
  /** The validated body. */
  body: Readonly<Record<string, unknown>>;
  /** The row's values as stored before the write; undefined on create. */
  current?: Readonly<Record<string, unknown>> | undefined;
  /** The row moves to another portfolio. */
  moving?: boolean;
}

const ids = (value: unknown): string[] | undefined => (Array.isArray(value) ? (value as string[]) : undefined);

export class RelationService {
  readonly repo: RelationRepository;

  constructor(db: Queryable) {
    this.repo = new RelationRepository(db);
  }

  /** Checks the categories named in a body (before any write). */
  async checkCategories(categoryIds: readonly string[] | undefined, tx: Queryable): Promise<void> {
    if (categoryIds === undefined || categoryIds.length === 0) return;
    if (new Set(categoryIds).size !== categoryIds.length) throw relationErrors.unknownCategory();
    if ((await this.repo.countCategories(categoryIds, tx)) !== categoryIds.length)
      throw relationErrors.unknownCategory();
  }

  /** A portfolio's categories, after its row is written. */
  async writePortfolio(id: string, body: Readonly<Record<string, unknown>>, tx: Queryable): Promise<void> {
    const categoryIds = ids(body['categoryIds']);
    if (categoryIds !== undefined) await this.repo.setCategories('portfolios', id, categoryIds, tx);
  }

  /**
   * Before a child row is written: checks what the body names, and clears what a move would break.
   * Returns values to write along with the row (a section leaving its project).
   */
  async beforeChildWrite(
    resource: ChildResource,
    write: RelationWrite,
    tx: Queryable,
  ): Promise<Record<string, unknown>> {
    const { body } = write;
    const extra: Record<string, unknown> = {};
    if (resource.relations.includes('categoryIds')) await this.checkCategories(ids(body['categoryIds']), tx);
    if (resource.relations.includes('skillIds')) {
      const skillIds = ids(body['skillIds']);
      if (skillIds !== undefined && skillIds.length > 0) {
        if (new Set(skillIds).size !== skillIds.length) throw relationErrors.skillNotInPortfolio();
        if ((await this.repo.countSkillsOf(write.portfolioId, skillIds, tx)) !== skillIds.length)
          throw relationErrors.skillNotInPortfolio();
      }
      if (write.moving) await this.repo.unlinkProjectSkills(write.id, tx);
    }
    if (resource.path === 'skills' && write.moving) await this.repo.unlinkSkill(write.id, tx);
    const nested = resource.nestedIn;
    if (nested) {
      const given = body[nested.field];
      if (typeof given === 'string') {
        if (!(await this.repo.isProjectOf(write.portfolioId, given, tx))) throw relationErrors.projectNotInPortfolio();
      } else if (given === undefined && write.moving && write.current?.[nested.field]) {
        extra[nested.field] = null;
      }
    }
    return extra;
  }

  /** After a child row is written (inserted or updated): its links. */
  async afterChildWrite(resource: ChildResource, write: RelationWrite, tx: Queryable): Promise<void> {
    const { body } = write;
    const categoryIds = ids(body['categoryIds']);
    if (categoryIds !== undefined && isCategorized(resource.path)) {
      await this.repo.setCategories(resource.path, write.id, categoryIds, tx);
    }
    const skillIds = ids(body['skillIds']);
    if (skillIds !== undefined && resource.relations.includes('skillIds')) {
      await this.repo.setSkills(write.id, write.portfolioId, skillIds, tx);
    }
    if (resource.path === 'skills' && categoryIds === undefined) {
      const type = body['type'];
      if (typeof type === 'string') await this.repo.setSkillType(write.id, type, tx);
      else if (!write.current) await this.repo.setSkillType(write.id, DEFAULT_SKILL_TYPE, tx);
    }
  }
}

/** The column default of skills.type (migration 0001). */
const DEFAULT_SKILL_TYPE = 'technical';
