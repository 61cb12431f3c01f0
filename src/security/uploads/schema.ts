/** Request and response schemas of the uploads module. */
import { Type, type Static } from 'typebox';
import { pageOf } from '../../http/common-schemas.js';
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

export const Media = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    portfolioId: Type.String({ format: 'uuid' }),
    projectId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    kind: OneOf(['image', 'document']),
    category: OneOf(CATEGORIES),
    isDefaultResume: Type.Boolean(),
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
    kind: OneOf(['image', 'document']),
    category: OneOf(CATEGORIES),
    isDefaultResume: Type.Boolean(),
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
