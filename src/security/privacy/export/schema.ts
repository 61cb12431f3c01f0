import { Type } from 'typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const ExportAccepted = Type.Object(
  { id: Type.String({ format: 'uuid', description: 'Read its status at GET /api/account/exports/:id' }) },
  { additionalProperties: false, title: 'ExportAccepted' },
);

export const ExportStatusView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: Type.Union(
      [
        Type.Literal('pending'),
        Type.Literal('building'),
        Type.Literal('ready'),
        Type.Literal('downloaded'),
        Type.Literal('failed'),
        Type.Literal('expired'),
      ],
      {
        description: 'pending/building: being prepared; ready: url works once; downloaded, failed, expired: no archive',
      },
    ),
    url: Nullable(
      Type.String({
        description: 'ready only: a signed download link for the signed-in requester, valid once until expiresAt',
      }),
    ),
    expiresAt: Nullable(Type.String({ format: 'date-time', description: "the link's expiry" })),
    createdAt: Type.String({ format: 'date-time' }),
    readyAt: Nullable(Type.String({ format: 'date-time' })),
    archiveDeletedAt: Nullable(
      Type.String({ format: 'date-time', description: 'ready only: when the archive is deleted if not downloaded' }),
    ),
  },
  { additionalProperties: false, title: 'ExportStatus' },
);

export const DownloadQuery = Type.Object(
  {
    expires: Type.Optional(Type.String({ maxLength: 20 })),
    sig: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
