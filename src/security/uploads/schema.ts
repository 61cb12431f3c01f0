/** Request and response schemas of the uploads module. */
import { Type, type Static } from 'typebox';
import { pageOf } from '../../http/common-schemas.js';
import { LanguageTag, REQUESTED_LANGUAGE_PATTERN, translationsSchema } from '../../content/translations.js';
import { CATEGORIES } from './types.js';

/** A string from a fixed list (an enum in the OpenAPI document), typed as that union. */
const OneOf = <const T extends readonly string[]>(values: T) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });

export const STATUSES = [
  'staged',
  'validated',
  'scanned',
  'sanitised',
  'available',
  'quarantined',
  'rejected',
] as const;

/** Longest alt text and caption (characters). */
export const MAX_ALT = 1000;
export const MAX_CAPTION = 2000;

const MediaTexts = { alt: Type.String({ maxLength: MAX_ALT }), caption: Type.String({ maxLength: MAX_CAPTION }) };
/** `{es: {alt, caption}}`: the same shape and limits as content translations. */
const MediaTranslations = translationsSchema(MediaTexts);

export const Media = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    portfolioId: Type.String({ format: 'uuid' }),
    projectId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    sectionId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    experienceId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    kind: OneOf(['image', 'document']),
    category: OneOf(CATEGORIES),
    isDefaultResume: Type.Boolean(),
    language: Type.Union([Type.String(), Type.Null()], {
      description: 'The site language it is for (public reads in other languages do not show it); null: every language',
    }),
    alt: Type.String({ description: 'Alt text in the default language' }),
    caption: Type.String({ description: 'Caption in the default language' }),
    translations: MediaTranslations,
    status: OneOf(STATUSES),
    statusReason: Type.Union([Type.String(), Type.Null()], {
      description:
        'Why it is quarantined (infected, scan_failed, scan_unavailable, unscannable, integrity) or rejected (an error code)',
    }),
    name: Type.String({ description: 'The original file name, sanitised (metadata only)' }),
    contentType: Type.Union([Type.String(), Type.Null()]),
    size: Type.Number(),
    sha256: Type.Union([Type.String(), Type.Null()], { description: 'SHA-256 of the stored (served) bytes' }),
    width: Type.Union([Type.Integer(), Type.Null()]),
    height: Type.Union([Type.Integer(), Type.Null()]),
    variants: Type.Array(Type.String()),
    scan: Type.Object({
      verdict: Type.Union([OneOf(['clean', 'infected', 'error']), Type.Null()]),
      signature: Type.Union([Type.String(), Type.Null()]),
      scannerVersion: Type.Union([Type.String(), Type.Null()]),
      scannedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false, title: 'Media' },
);
export const MediaPage = pageOf(Media);

export const LinkQuery = Type.Object(
  {
    variant: Type.Optional(OneOf(['display', 'thumbnail', 'original'])),
    disposition: Type.Optional(OneOf(['inline', 'attachment'])),
    ttl: Type.Optional(
      Type.Integer({
        minimum: 10,
        maximum: 3600,
        description: 'Seconds the link stays valid (default UPLOAD_URL_TTL)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type LinkQuery = Static<typeof LinkQuery>;

export const Link = Type.Object(
  { url: Type.String(), expiresAt: Type.String({ format: 'date-time' }) },
  { additionalProperties: false, title: 'MediaLink' },
);

/** The signed link's own query: checked by the signer (403/410), so the schema only bounds sizes. */
export const ContentQuery = Type.Object(
  {
    variant: Type.Optional(Type.String({ maxLength: 20 })),
    disposition: Type.Optional(Type.String({ maxLength: 20 })),
    expires: Type.Optional(Type.String({ maxLength: 20 })),
    kid: Type.Optional(Type.String({ maxLength: 40 })),
    sig: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: true },
);

export const QuarantineQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);

export const ReleaseBody = Type.Object(
  { reason: Type.String({ minLength: 3, maxLength: 500, pattern: '\\S' }) },
  { additionalProperties: false, title: 'QuarantineRelease' },
);
export type ReleaseBody = Static<typeof ReleaseBody>;

export const DeleteQuery = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);

/** What a published portfolio shows of its media (public read). */
export const PublicMediaItem = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    projectId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    sectionId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    experienceId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    kind: OneOf(['image', 'document']),
    category: OneOf(CATEGORIES),
    isDefaultResume: Type.Boolean(),
    language: Type.Union([Type.String(), Type.Null()]),
    alt: Type.String({ description: "Alt text in the read's language (falling back to the default language)" }),
    caption: Type.String({ description: "Caption in the read's language (falling back to the default language)" }),
    name: Type.String(),
    contentType: Type.String(),
    width: Type.Union([Type.Integer(), Type.Null()]),
    height: Type.Union([Type.Integer(), Type.Null()]),
    url: Type.String({ description: 'Signed link, valid until expiresAt' }),
    thumbnailUrl: Type.Union([Type.String(), Type.Null()]),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false, title: 'PublicMedia' },
);

/** PATCH /api/media/:id: what a medium says about itself, per language. */
export const MediaPatch = Type.Object(
  {
    language: Type.Optional(
      Type.Union([LanguageTag, Type.Null()], { description: 'An enabled site language, or null for every language' }),
    ),
    alt: Type.Optional(MediaTexts.alt),
    caption: Type.Optional(MediaTexts.caption),
    translations: Type.Optional(MediaTranslations),
  },
  { additionalProperties: false, minProperties: 1, title: 'MediaPatch' },
);
export type MediaPatch = Static<typeof MediaPatch>;

export const ResumeQuery = Type.Object(
  { lang: Type.Optional(Type.String({ pattern: REQUESTED_LANGUAGE_PATTERN, maxLength: 35 })) },
  { additionalProperties: false },
);
