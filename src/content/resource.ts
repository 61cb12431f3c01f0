/**
 * One definition per child kind of a portfolio (projects, sections, experiences, skills, links).
 * From it come the request/response schemas (here), the SQL with its column whitelist
 * (ChildRepository), the logic (ChildService) and the routes (childRoutes): adding a field is one
 * line in schema.ts, and the five kinds cannot drift apart in their security checks.
 */
import { Type, type TObject, type TSchema } from 'typebox';
import { PageQuery, pageOf } from '../http/common-schemas.js';
import { PUBLIC_RELATIONS, RELATION_SCHEMAS, type RelationName } from './relations/schema.js';
import { translationsSchema } from './translations.js';

export interface FieldDef {
  /** SQL column; only ever taken from this definition, never from a request. */
  column: string;
  /** Schema of a non-null value; also caps the field's translations. */
  schema: TSchema;
  /** Must be given on create (others fall back to the column's default). */
  required?: boolean;
  /** May be null (e.g. an optional URL); null clears it on PATCH. */
  nullable?: boolean;
  /** Reader-facing text that may be given per language. */
  translatable?: boolean;
  /** How the value crosses to SQL: `date` is read back as YYYY-MM-DD text, `jsonb` is sent as JSON. */
  sql?: 'date' | 'jsonb';
  /** The owner's only (publication state, schedule): left out of the public item and the public read. */
  ownerOnly?: boolean;
}

export type FieldDefs = Readonly<Record<string, FieldDef>>;

/** A rule across fields, checked on the row as it will be after the write. */
export type RowCheck = (row: Readonly<Record<string, unknown>>) => { path: string; message: string } | undefined;

export interface ChildResourceInput {
  /** Singular name for messages and OpenAPI (`Project`). */
  name: string;
  /** Table name (must have id, portfolio_id, position, translations, created_at, updated_at). */
  table: string;
  /** URL segment (`projects`): /api/portfolios/:id/projects and /api/projects/:id. */
  path: string;
  fields: FieldDefs;
  check?: RowCheck;
  /** Anti-abuse cap per portfolio; also bounds the public payload. */
  maxPerPortfolio?: number;
  /** Rows carry `published` (a field of the definition): the public read shows only published ones. */
  publishable?: boolean;
  /** Links kept in link tables (src/content/relations): `categoryIds`, `skillIds` (projects). */
  relations?: readonly RelationName[];
  /**
   * Rows may belong to a row of another kind of the same portfolio (sections in a project): the
   * public read lists them under that row instead of at the top.
   */
  nestedIn?: NestedIn;
}

/** The parent kind (its path) and the field of this kind that names the parent row. */
export interface NestedIn {
  path: string;
  field: string;
}

export interface ChildResource extends Required<Omit<ChildResourceInput, 'check' | 'nestedIn'>> {
  check: RowCheck | undefined;
  nestedIn: NestedIn | null;
  /** Names of the translatable fields. */
  translatable: readonly string[];
  schemas: {
    create: TObject;
    patch: TObject;
    item: TObject;
    page: TObject;
    publicItem: TObject;
    listQuery: typeof PageQuery;
  };
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const NAME = /^[a-z][A-Za-z0-9]{0,62}$/;
/** Names every child row has; a field must not shadow them. */
const RESERVED = new Set([
  'id',
  'portfolioId',
  'position',
  'translations',
  'createdAt',
  'updatedAt',
  'ownerId',
  'portfolioDefaultLanguage',
  'categoryIds',
  'skillIds',
  'categories',
  'linkedSkills',
]);

export const POSITION_MAX = 1_000_000;
export const Position = Type.Integer({
  minimum: 0,
  maximum: POSITION_MAX,
  description: 'Sort order within the portfolio (ascending)',
});
const Uuid = Type.String({ format: 'uuid' });
const Timestamp = Type.String({ format: 'date-time' });

const orNull = (def: FieldDef) => (def.nullable ? Type.Union([def.schema, Type.Null()]) : def.schema);

export function defineChildResource(input: ChildResourceInput): ChildResource {
  // Identifiers go into SQL text, so they are checked once here, when the module loads.
  if (!IDENTIFIER.test(input.table)) throw new Error(`bad table name ${input.table}`);
  if (!/^[a-z][a-z-]{0,40}$/.test(input.path)) throw new Error(`bad path ${input.path}`);
  for (const [name, field] of Object.entries(input.fields)) {
    if (!NAME.test(name) || RESERVED.has(name)) throw new Error(`bad field name ${name}`);
    if (!IDENTIFIER.test(field.column)) throw new Error(`bad column ${field.column}`);
    if (field.translatable && (field.nullable || field.sql))
      throw new Error(`translatable field ${name} must be plain text`);
    if (field.translatable && field.ownerOnly) throw new Error(`translatable field ${name} cannot be owner-only`);
  }
  if (input.publishable && input.fields['published']?.column !== 'published')
    throw new Error(`${input.name}: publishable needs a published field`);
  const entries = Object.entries(input.fields);
  const translatable = entries.filter(([, f]) => f.translatable).map(([n]) => n);
  const relations = input.relations ?? [];
  const relationProps: Record<string, TSchema> = Object.fromEntries(relations.map((r) => [r, RELATION_SCHEMAS[r]]));
  const publicRelationProps: Record<string, TSchema> = Object.fromEntries(
    relations.map((r) => [PUBLIC_RELATIONS[r].field, Type.Array(PUBLIC_RELATIONS[r].item)]),
  );
  const translationsProp: Record<string, TSchema> =
    translatable.length > 0
      ? {
          translations: translationsSchema(
            Object.fromEntries(entries.filter(([, f]) => f.translatable).map(([n, f]) => [n, f.schema])),
          ),
        }
      : {};

  const create = Type.Object(
    {
      ...Object.fromEntries(entries.map(([n, f]) => [n, f.required ? orNull(f) : Type.Optional(orNull(f))])),
      position: Type.Optional(Position),
      ...mapOptional(translationsProp),
      ...mapOptional(relationProps),
    },
    { additionalProperties: false, title: `${input.name}Create` },
  );
  const patch = Type.Object(
    {
      ...Object.fromEntries(entries.map(([n, f]) => [n, Type.Optional(orNull(f))])),
      position: Type.Optional(Position),
      ...mapOptional(translationsProp),
      ...mapOptional(relationProps),
      portfolioId: Type.Optional(
        Type.String({ format: 'uuid', description: 'Move to another portfolio (needs write access to both)' }),
      ),
    },
    { additionalProperties: false, minProperties: 1, title: `${input.name}Patch` },
  );
  const item = Type.Object(
    {
      id: Uuid,
      portfolioId: Uuid,
      ...Object.fromEntries(entries.map(([n, f]) => [n, orNull(f)])),
      position: Type.Integer(),
      ...translationsProp,
      ...Object.fromEntries(relations.map((r) => [r, Type.Array(Uuid)])),
      createdAt: Timestamp,
      updatedAt: Timestamp,
    },
    { additionalProperties: false, title: input.name },
  );
  const publicItem = Type.Object(
    {
      id: Uuid,
      ...Object.fromEntries(entries.filter(([, f]) => !f.ownerOnly).map(([n, f]) => [n, orNull(f)])),
      ...publicRelationProps,
    },
    { additionalProperties: false, title: `Public${input.name}` },
  );
  return {
    name: input.name,
    table: input.table,
    path: input.path,
    fields: input.fields,
    check: input.check,
    maxPerPortfolio: input.maxPerPortfolio ?? 500,
    publishable: input.publishable ?? false,
    relations,
    nestedIn: input.nestedIn ?? null,
    translatable,
    schemas: { create, patch, item, page: pageOf(item), publicItem, listQuery: PageQuery },
  };
}

function mapOptional(props: Record<string, TSchema>): Record<string, TSchema> {
  return Object.fromEntries(Object.entries(props).map(([n, s]) => [n, Type.Optional(s)]));
}
