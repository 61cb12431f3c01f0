/** Preview link schemas (docs/CONTENT.md "Preview links"). */
import { Type, type Static } from 'typebox';

/** At most 7 days: a preview is for showing unpublished work to someone, not a second site. */
export const PREVIEW_MAX_SECONDS = 7 * 24 * 3600;
export const PREVIEW_MIN_SECONDS = 60;
/** Live links per portfolio (anti-abuse; expired ones do not count). */
export const PREVIEW_MAX_LIVE = 20;

export const PreviewCreate = Type.Object(
  {
    expiresIn: Type.Integer({
      minimum: PREVIEW_MIN_SECONDS,
      maximum: PREVIEW_MAX_SECONDS,
      description: `Lifetime in seconds, ${PREVIEW_MIN_SECONDS} to ${PREVIEW_MAX_SECONDS} (7 days)`,
    }),
  },
  { additionalProperties: false, title: 'PreviewLinkCreate' },
);
export type PreviewCreate = Static<typeof PreviewCreate>;

export const PreviewCreated = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    url: Type.String({ description: 'The link to share; shown once (only its hash is stored)' }),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false, title: 'PreviewLinkCreated' },
);

export const PreviewLink = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    createdAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
    createdBy: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  },
  { additionalProperties: false, title: 'PreviewLink' },
);
export type PreviewLink = Static<typeof PreviewLink>;
export const PreviewLinkList = Type.Object(
  { items: Type.Array(PreviewLink) },
  { additionalProperties: false, title: 'PreviewLinkList' },
);

export const PreviewLinkParams = Type.Object(
  { id: Type.String({ format: 'uuid' }), linkId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);
/** Any text: a malformed token is the same 404 as an unknown one. */
export const PreviewTokenParams = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
