/** Request and response schemas of site languages and the missing-translation report. */
import { Type, type Static } from 'typebox';
import { PageQuery } from '../../http/common-schemas.js';

/** Most languages a site may have (bounds every list, chain and report). */
export const MAX_LANGUAGES = 100;
/** Longest fallback chain a language may name. */
export const MAX_FALLBACK = 10;

/** Any letter case (`pt-br`, `PT_BR`); the service canonicalises (tags.ts) and refuses the rest. */
export const LanguageCodeInput = Type.String({
  minLength: 2,
  maxLength: 16,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'BCP 47 language tag (en, es, pt-BR); stored in canonical case',
  examples: ['en', 'pt-BR'],
});

const DisplayName = (description = 'Display name') =>
  Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description });
const Fallback = Type.Array(LanguageCodeInput, {
  maxItems: MAX_FALLBACK,
  uniqueItems: true,
  description: 'Languages to try, in order, when a text is missing in this one (then the default language)',
});

export const LanguageCreate = Type.Object(
  {
    code: LanguageCodeInput,
    name: Type.Optional(DisplayName('English name (default: from the code)')),
    nativeName: Type.Optional(DisplayName('Name in the language itself (default: from the code)')),
    enabled: Type.Optional(Type.Boolean({ description: 'Shown to visitors (default true)' })),
    isDefault: Type.Optional(Type.Boolean({ description: 'Make this the site default language (only true)' })),
    fallback: Type.Optional(Fallback),
  },
  { additionalProperties: false, title: 'LanguageCreate' },
);
export type LanguageCreate = Static<typeof LanguageCreate>;

export const LanguagePatch = Type.Object(
  {
    name: Type.Optional(DisplayName('English name')),
    nativeName: Type.Optional(DisplayName('Name in the language itself')),
    enabled: Type.Optional(Type.Boolean()),
    isDefault: Type.Optional(Type.Boolean({ description: 'true makes this the default; to change it, set another' })),
    fallback: Type.Optional(Fallback),
  },
  { additionalProperties: false, minProperties: 1, title: 'LanguagePatch' },
);
export type LanguagePatch = Static<typeof LanguagePatch>;

export const Language = Type.Object(
  {
    code: Type.String(),
    name: Type.String(),
    nativeName: Type.String(),
    enabled: Type.Boolean(),
    isDefault: Type.Boolean(),
    fallback: Type.Array(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false, title: 'Language' },
);
export type Language = Static<typeof Language>;
export const LanguageList = Type.Object({ items: Type.Array(Language) }, { additionalProperties: false });

export const PublicLanguage = Type.Object(
  { code: Type.String(), name: Type.String(), nativeName: Type.String(), isDefault: Type.Boolean() },
  { additionalProperties: false, title: 'PublicLanguage' },
);
export type PublicLanguage = Static<typeof PublicLanguage>;
export const PublicLanguageList = Type.Object(
  { items: Type.Array(PublicLanguage, { description: 'Enabled languages, the default first' }) },
  { additionalProperties: false },
);

export const LanguageParams = Type.Object({ code: LanguageCodeInput }, { additionalProperties: false });
export const DeleteQuery = Type.Object(
  {
    force: Type.Optional(
      Type.Boolean({
        description: 'Also remove every translation in this language (portfolios, their content, site texts)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const MissingQuery = Type.Object(
  {
    lang: LanguageCodeInput,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10, description: 'Portfolios per page' })),
    cursor: PageQuery.properties.cursor,
  },
  { additionalProperties: false },
);

const MissingObject = Type.Object(
  {
    kind: Type.String({
      description: 'portfolio, the child kind (projects, sections, ...), or media (an image with no alt text)',
    }),
    id: Type.String({ format: 'uuid' }),
    label: Type.String({ description: 'Its title or name in the portfolio language, to find it' }),
    fields: Type.Array(Type.String(), { description: 'Translatable fields with no text in the language' }),
  },
  { additionalProperties: false },
);
export const MissingReport = Type.Object(
  {
    lang: Type.String(),
    items: Type.Array(
      Type.Object(
        {
          portfolioId: Type.String({ format: 'uuid' }),
          slug: Type.String(),
          title: Type.String(),
          defaultLanguage: Type.String(),
          missingFields: Type.Integer({ description: 'Count of fields left to translate in this portfolio' }),
          missing: Type.Array(MissingObject),
        },
        { additionalProperties: false },
      ),
    ),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false, title: 'MissingTranslations' },
);
export type MissingReport = Static<typeof MissingReport>;
