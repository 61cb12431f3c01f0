/**
 * Schemas of the relations a content row carries (issue 17 item 4; docs/CONTENT.md): categories
 * (portfolios, projects, skills) and a project's skills. Ids are unique and bounded: a duplicate or
 * an oversized list is a 400 before any query runs.
 */
import { Type } from 'typebox';

/** Categories one portfolio, project or skill may carry. */
export const MAX_CATEGORIES_PER_ITEM = 50;
/** Skills one project may name (a portfolio holds at most 500 skills). */
export const MAX_SKILLS_PER_PROJECT = 100;

export const RELATIONS = ['categoryIds', 'skillIds'] as const;
export type RelationName = (typeof RELATIONS)[number];

const Uuid = Type.String({ format: 'uuid' });

export const CategoryIds = Type.Array(Uuid, {
  maxItems: MAX_CATEGORIES_PER_ITEM,
  uniqueItems: true,
  description: `Ids of site categories (GET /api/categories), in display order; at most ${MAX_CATEGORIES_PER_ITEM}, each once. Replaces the list.`,
});
export const SkillIds = Type.Array(Uuid, {
  maxItems: MAX_SKILLS_PER_PROJECT,
  uniqueItems: true,
  description: `Ids of skills of the same portfolio, in display order; at most ${MAX_SKILLS_PER_PROJECT}, each once. Replaces the list.`,
});

/** A category as visitors see it: its name resolved for the read's language. */
export const PublicCategoryRef = Type.Object(
  { id: Uuid, code: Type.String(), typeCode: Type.String(), name: Type.String() },
  { additionalProperties: false, title: 'PublicCategoryRef' },
);

/** A project's skill as visitors see it. */
export const PublicLinkedSkill = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    type: Type.String(),
    level: Type.Union([Type.Integer(), Type.Null()]),
  },
  { additionalProperties: false, title: 'PublicLinkedSkill' },
);

/** Request schema of each relation. */
export const RELATION_SCHEMAS = { categoryIds: CategoryIds, skillIds: SkillIds } as const;
/** The public read's field for each relation, and its item schema. */
export const PUBLIC_RELATIONS = {
  categoryIds: { field: 'categories', item: PublicCategoryRef },
  skillIds: { field: 'linkedSkills', item: PublicLinkedSkill },
} as const;
