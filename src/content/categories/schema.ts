/**
 * Category types and categories: a site-wide taxonomy (docs/CONTENT.md). `name` is written in the
 * site default language; `translations` holds the others, the same shape as content rows
 * (src/content/translations.ts).
 */
import { Type, type Static } from 'typebox';
import { translationsSchema } from '../translations.js';

/** Lower-case letters, digits and single inner hyphens: `skill-type`, `web`, `c-sharp`. */
export const CODE_PATTERN = '^[a-z0-9]+(?:-[a-z0-9]+)*$';
const Code = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: CODE_PATTERN,
  description: 'Lower-case letters, digits, hyphens',
});
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const Translations = translationsSchema({ name: Name });
const Timestamp = Type.String({ format: 'date-time' });

/** Anti-abuse caps (they also bound the lists, which are not paged). */
export const MAX_CATEGORY_TYPES = 50;
export const MAX_CATEGORIES = 1000;

export const CategoryType = Type.Object(
  { code: Type.String(), name: Type.String(), translations: Translations, createdAt: Timestamp, updatedAt: Timestamp },
  { additionalProperties: false, title: 'CategoryType' },
);
export type CategoryType = Static<typeof CategoryType>;
export const CategoryTypeList = Type.Object({ items: Type.Array(CategoryType) }, { additionalProperties: false });

export const CategoryTypeCreate = Type.Object(
  { code: Code, name: Name, translations: Type.Optional(Translations) },
  { additionalProperties: false, title: 'CategoryTypeCreate' },
);
export type CategoryTypeCreate = Static<typeof CategoryTypeCreate>;

export const Category = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    code: Type.String(),
    typeCode: Type.String(),
    name: Type.String(),
    translations: Translations,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, title: 'Category' },
);
export type Category = Static<typeof Category>;
export const CategoryList = Type.Object({ items: Type.Array(Category) }, { additionalProperties: false });

export const CategoryCreate = Type.Object(
  { code: Code, typeCode: Code, name: Name, translations: Type.Optional(Translations) },
  { additionalProperties: false, title: 'CategoryCreate' },
);
export type CategoryCreate = Static<typeof CategoryCreate>;

export const CategoryPatch = Type.Object(
  {
    code: Type.Optional(Code),
    typeCode: Type.Optional(Code),
    name: Type.Optional(Name),
    translations: Type.Optional(Translations),
  },
  { additionalProperties: false, minProperties: 1, title: 'CategoryPatch' },
);
export type CategoryPatch = Static<typeof CategoryPatch>;

export const CategoryQuery = Type.Object({ type: Type.Optional(Code) }, { additionalProperties: false });
export const CategoryDeleteQuery = Type.Object(
  {
    force: Type.Optional(
      Type.Boolean({ description: 'Also remove it from every portfolio, project and skill carrying it' }),
    ),
  },
  { additionalProperties: false },
);
