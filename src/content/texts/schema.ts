/** Request and response schemas of site texts. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../http/common-schemas.js';
import { LanguageCodeInput, MAX_LANGUAGES } from '../languages/schema.js';
import { REQUESTED_LANGUAGE_PATTERN } from '../translations.js';
import { MAX_KEY_CHARS, MAX_TEXT_CHARS, SITE_TEXT_KEY_PATTERN } from './i18next.js';

export const SiteTextKey = Type.String({
  minLength: 1,
  maxLength: MAX_KEY_CHARS,
  pattern: SITE_TEXT_KEY_PATTERN,
  description: 'i18next key: segments of letters, digits, _ and - joined by dots (nav.home, cart.items_other)',
  examples: ['nav.home'],
});

export const TextParams = Type.Object({ key: SiteTextKey }, { additionalProperties: false });

export const TextPut = Type.Object(
  {
    translations: Type.Record(
      Type.String({ pattern: '^[A-Za-z0-9_-]{2,16}$' }),
      Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS }),
      {
        minProperties: 1,
        maxProperties: MAX_LANGUAGES,
        additionalProperties: false,
        description: "The text in each enabled language, keyed by language code; replaces the key's texts",
      },
    ),
  },
  { additionalProperties: false, title: 'SiteTextPut' },
);

export const SiteText = Type.Object(
  {
    key: Type.String(),
    translations: Type.Record(Type.String(), Type.String()),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false, title: 'SiteText' },
);
export const SiteTextPage = pageOf(SiteText);

export const TextListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: PageQuery.properties.cursor,
    prefix: Type.Optional(
      Type.String({
        maxLength: MAX_KEY_CHARS,
        pattern: '^[A-Za-z0-9_.-]*$',
        description: 'Only keys starting with this',
      }),
    ),
  },
  { additionalProperties: false },
);

export const PublicTextsQuery = Type.Object(
  {
    lang: Type.Optional(
      Type.String({
        maxLength: 35,
        pattern: REQUESTED_LANGUAGE_PATTERN,
        description: 'Preferred language, e.g. es or pt-BR',
      }),
    ),
  },
  { additionalProperties: false },
);

export const PublicTexts = Type.Object(
  {
    lang: Type.String({ description: 'The language the texts were resolved for' }),
    texts: Type.Record(Type.String(), Type.String(), {
      description: 'key → text, each from the first language of the chain that has it',
    }),
  },
  { additionalProperties: false, title: 'PublicTexts' },
);

export const ExportQuery = Type.Object({ lang: LanguageCodeInput }, { additionalProperties: false });

export const ImportQuery = Type.Object(
  {
    lang: LanguageCodeInput,
    mode: Type.Optional(
      Type.Union([Type.Literal('merge'), Type.Literal('replace')], {
        description:
          "merge (default): add and change the file's texts; replace: the language keeps only the file's texts",
      }),
    ),
  },
  { additionalProperties: false },
);

export const ImportBody = Type.Record(Type.String(), Type.Unknown(), {
  description: 'i18next JSON: nested objects, string leaves (checked by the service: depth, keys, sizes)',
});

export const ImportResult = Type.Object(
  {
    lang: Type.String(),
    mode: Type.Union([Type.Literal('merge'), Type.Literal('replace')]),
    keys: Type.Integer(),
    written: Type.Integer(),
    removed: Type.Integer(),
  },
  { additionalProperties: false, title: 'SiteTextsImported' },
);
