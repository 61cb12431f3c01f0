/**
 * Portfolio schemas and the five child definitions. Every text has a length cap, every URL an
 * allow-listed scheme: these strings end up in other people's browsers (href, markdown), so
 * `javascript:` or `data:` links are refused at the door rather than escaped somewhere later.
 */
import { Type, type Static } from 'typebox';
import { pageOf } from '../http/common-schemas.js';
import { PublicMediaItem } from '../security/uploads/schema.js';
import { CategoryIds, PublicCategoryRef } from './relations/schema.js';
import { defineChildResource, type ChildResource } from './resource.js';
import { LanguageTag, REQUESTED_LANGUAGE_PATTERN, translationsSchema } from './translations.js';

// ---- value schemas --------------------------------------------------------------------------

/** Non-blank single-line-ish text with a cap. */
const Name = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '\\S' });
const Text = (maxLength: number) => Type.String({ maxLength });

/**
 * http(s) with a plain host name (letters, digits, dots, hyphens; IDNs as punycode) and no user
 * info: `https://bank.example@evil.example` style links are refused.
 */
const HTTP_URL = 'https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#]\\S*)?';
const MAILTO = 'mailto:[^\\s@/?#:]+@[A-Za-z0-9.-]+';
export const HttpUrl = Type.String({
  format: 'uri',
  maxLength: 2048,
  pattern: `^${HTTP_URL}$`,
  description: 'http or https URL',
});
export const LinkUrl = Type.String({
  format: 'uri',
  maxLength: 2048,
  pattern: `^(?:${HTTP_URL}|${MAILTO})$`,
  description: 'http, https or mailto URL',
});
export const DateOnly = Type.String({
  format: 'date',
  pattern: '^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$',
  description: 'YYYY-MM-DD',
});
const Year = Type.Integer({ minimum: 1900, maximum: 2100 });
/** A scheduled time: ISO 8601 with seconds and an offset (`Z` or ±hh:mm); a local time without one is refused. */
export const ScheduleTime = Type.String({
  format: 'date-time',
  maxLength: 40,
  pattern: '^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$',
  description: 'ISO 8601 date-time with an offset, e.g. 2030-01-31T09:00:00+01:00',
});
const ScheduleField = Type.Optional(Type.Union([ScheduleTime, Type.Null()], { description: 'null clears it' }));

/** unpublishAt, when both are set, comes after publishAt (on the row as it will be after the write). */
export function scheduleProblem(row: Readonly<Record<string, unknown>>): { path: string; message: string } | undefined {
  const time = (v: unknown) => (v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : NaN);
  const publishAt = time(row['publishAt']);
  const unpublishAt = time(row['unpublishAt']);
  if (Number.isFinite(publishAt) && Number.isFinite(unpublishAt) && unpublishAt <= publishAt) {
    return { path: 'body/unpublishAt', message: 'must be after publishAt' };
  }
  return undefined;
}

export const Slug = Type.String({
  minLength: 3,
  maxLength: 64,
  pattern: '^[a-z0-9-]+$',
  description: 'Lowercase letters, digits and hyphens, 3-64 characters; unique',
});
export const SLUG_PATTERN = /^[a-z0-9-]{3,64}$/;
/** Slugs that would collide with fixed public routes (`/api/public/portfolios/default`). */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set(['default']);

export const Visibility = Type.Union([Type.Literal('private'), Type.Literal('public')]);

export const SECTION_KINDS = ['about', 'experience', 'education', 'contact', 'skills', 'projects', 'custom'] as const;
export const SKILL_TYPES = ['technical', 'language', 'soft', 'tool', 'other'] as const;
export const LINK_KINDS = ['github', 'linkedin', 'website', 'email', 'other'] as const;
/** How a section is laid out (a front-end hint). */
export const DISPLAY_STYLES = ['text', 'list', 'cards', 'timeline', 'gallery'] as const;
const OneOf = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));

/** Anti-abuse cap: portfolios one user may own. */
export const MAX_PORTFOLIOS_PER_OWNER = 100;

// ---- portfolios ------------------------------------------------------------------------------

const PortfolioTexts = { title: Name(200), summary: Text(2000) };
export const PORTFOLIO_TRANSLATABLE = Object.keys(PortfolioTexts);
const PortfolioTranslations = translationsSchema(PortfolioTexts);

export const PortfolioCreate = Type.Object(
  {
    title: PortfolioTexts.title,
    slug: Slug,
    summary: Type.Optional(PortfolioTexts.summary),
    visibility: Type.Optional(Visibility),
    published: Type.Optional(Type.Boolean()),
    publishAt: ScheduleField,
    unpublishAt: ScheduleField,
    defaultLanguage: Type.Optional(LanguageTag),
    isDefault: Type.Optional(Type.Boolean({ description: 'Site default portfolio; needs content:write_any' })),
    translations: Type.Optional(PortfolioTranslations),
    categoryIds: Type.Optional(CategoryIds),
  },
  { additionalProperties: false, title: 'PortfolioCreate' },
);
export type PortfolioCreate = Static<typeof PortfolioCreate>;

export const PortfolioPatch = Type.Object(
  {
    title: Type.Optional(PortfolioTexts.title),
    slug: Type.Optional(Slug),
    summary: Type.Optional(PortfolioTexts.summary),
    visibility: Type.Optional(Visibility),
    published: Type.Optional(Type.Boolean()),
    publishAt: ScheduleField,
    unpublishAt: ScheduleField,
    defaultLanguage: Type.Optional(LanguageTag),
    isDefault: Type.Optional(Type.Boolean({ description: 'Site default portfolio; needs content:write_any' })),
    translations: Type.Optional(PortfolioTranslations),
    categoryIds: Type.Optional(CategoryIds),
  },
  { additionalProperties: false, minProperties: 1, title: 'PortfolioPatch' },
);
export type PortfolioPatch = Static<typeof PortfolioPatch>;

export const Portfolio = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    ownerId: Type.String({ format: 'uuid' }),
    slug: Type.String(),
    title: Type.String(),
    summary: Type.String(),
    visibility: Visibility,
    published: Type.Boolean(),
    publishAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    unpublishAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    defaultLanguage: Type.String(),
    isDefault: Type.Boolean(),
    translations: PortfolioTranslations,
    categoryIds: Type.Array(Type.String({ format: 'uuid' })),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false, title: 'Portfolio' },
);
export type Portfolio = Static<typeof Portfolio>;
export const PortfolioPage = pageOf(Portfolio);

// ---- children --------------------------------------------------------------------------------

export const projects = defineChildResource({
  name: 'Project',
  table: 'projects',
  path: 'projects',
  fields: {
    title: { column: 'title', schema: Name(200), required: true, translatable: true },
    description: { column: 'description', schema: Text(10_000), translatable: true },
    url: { column: 'url', schema: HttpUrl, nullable: true },
    repositoryUrl: { column: 'repository_url', schema: HttpUrl, nullable: true },
    date: { column: 'date', schema: DateOnly, nullable: true, sql: 'date' },
    skills: { column: 'skills', schema: Type.Array(Name(60), { maxItems: 50 }), sql: 'jsonb' },
    published: {
      column: 'published',
      schema: Type.Boolean({ description: 'Shown in the public read (default true)' }),
      ownerOnly: true,
    },
    publishAt: { column: 'publish_at', schema: ScheduleTime, nullable: true, ownerOnly: true },
    unpublishAt: { column: 'unpublish_at', schema: ScheduleTime, nullable: true, ownerOnly: true },
  },
  publishable: true,
  check: scheduleProblem,
  relations: ['categoryIds', 'skillIds'],
});

export const sections = defineChildResource({
  name: 'Section',
  table: 'sections',
  path: 'sections',
  fields: {
    kind: { column: 'kind', schema: OneOf(SECTION_KINDS), required: true },
    title: { column: 'title', schema: Name(200), required: true, translatable: true },
    body: { column: 'body', schema: Text(50_000), translatable: true },
    projectId: {
      column: 'project_id',
      schema: Type.String({
        format: 'uuid',
        description: 'A project of the same portfolio the section belongs to (null: the portfolio itself)',
      }),
      nullable: true,
    },
    displayStyle: { column: 'display_style', schema: OneOf(DISPLAY_STYLES) },
  },
  maxPerPortfolio: 100,
  nestedIn: { path: 'projects', field: 'projectId' },
});

export const experiences = defineChildResource({
  name: 'Experience',
  table: 'experiences',
  path: 'experiences',
  fields: {
    title: { column: 'title', schema: Name(200), required: true, translatable: true },
    organization: { column: 'organization', schema: Text(200), translatable: true },
    description: { column: 'description', schema: Text(10_000), translatable: true },
    startYear: { column: 'start_year', schema: Year, required: true },
    endYear: { column: 'end_year', schema: Year, nullable: true },
  },
  check: (row) => {
    const { startYear, endYear } = row;
    if (typeof startYear === 'number' && typeof endYear === 'number' && endYear < startYear) {
      return { path: 'body/endYear', message: 'must be greater than or equal to startYear' };
    }
    return undefined;
  },
});

export const skills = defineChildResource({
  name: 'Skill',
  table: 'skills',
  path: 'skills',
  fields: {
    name: { column: 'name', schema: Name(100), required: true, translatable: true },
    type: {
      column: 'type',
      schema: OneOf(SKILL_TYPES),
      // Kept for API compatibility: skill types are the `skill-type` categories now (docs/CONTENT.md).
    },
    level: { column: 'level', schema: Type.Integer({ minimum: 1, maximum: 5 }), nullable: true },
  },
  relations: ['categoryIds'],
});

export const links = defineChildResource({
  name: 'Link',
  table: 'links',
  path: 'links',
  fields: {
    url: { column: 'url', schema: LinkUrl, required: true },
    kind: { column: 'kind', schema: OneOf(LINK_KINDS) },
    label: { column: 'label', schema: Text(100), translatable: true },
  },
  maxPerPortfolio: 100,
});

/** The child kinds, in the order the public payload lists them. */
export const CHILD_RESOURCES: readonly ChildResource[] = [projects, sections, experiences, skills, links];

// ---- public read -----------------------------------------------------------------------------

/** A kind's public item, with the rows of kinds nested in it (a project's sections). */
function publicItemWithNested(resource: ChildResource) {
  const nested = CHILD_RESOURCES.filter((r) => r.nestedIn?.path === resource.path);
  if (nested.length === 0) return resource.schemas.publicItem;
  return Type.Object(
    {
      ...resource.schemas.publicItem.properties,
      ...Object.fromEntries(nested.map((r) => [r.path, Type.Array(r.schemas.publicItem)])),
    },
    { additionalProperties: false, title: `Public${resource.name}` },
  );
}

export const PublicQuery = Type.Object({
  lang: Type.Optional(
    Type.String({
      maxLength: 35,
      pattern: REQUESTED_LANGUAGE_PATTERN,
      description: 'Preferred language, e.g. es or pt-BR',
    }),
  ),
  category: Type.Optional(
    Type.String({
      maxLength: 64,
      pattern: '^[A-Za-z0-9-]{1,64}$',
      description: 'Only the projects carrying a category with this code (any type)',
    }),
  ),
});
export const PublicSlugParams = Type.Object(
  { slug: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

/** What anyone may see: no owner, no visibility flags, no raw translations. */
export const PublicPortfolio = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    slug: Type.String(),
    title: Type.String(),
    summary: Type.String(),
    language: Type.String({
      description: 'Language the texts were resolved for (fields without it fall back to defaultLanguage)',
    }),
    defaultLanguage: Type.String(),
    availableLanguages: Type.Array(Type.String()),
    updatedAt: Type.String({ format: 'date-time' }),
    categories: Type.Array(PublicCategoryRef),
    ...Object.fromEntries(CHILD_RESOURCES.map((r) => [r.path, Type.Array(publicItemWithNested(r))])),
    /** Available (scanned, sanitised) media with signed links; see src/security/uploads. */
    media: Type.Optional(Type.Array(PublicMediaItem)),
  },
  { additionalProperties: false, title: 'PublicPortfolio' },
);
export type PublicPortfolio = Static<typeof PublicPortfolio>;
