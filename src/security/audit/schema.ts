/** Request and response schemas of the admin audit API, with their inferred types. */
import { Type, type Static } from 'typebox';

const Outcome = Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]);
const Instant = Type.String({ format: 'date-time', description: 'ISO 8601 date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const EventFilterQuery = {
  actor: Type.Optional(Type.String({ maxLength: 64, description: 'a user id, system or anonymous' })),
  action: Type.Optional(Type.String({ maxLength: 100, pattern: '^[a-z0-9_.]+$', description: 'prefix of the dotted action, e.g. auth.login' })),
  targetType: Type.Optional(Type.String({ maxLength: 50, pattern: '^[a-z][a-z0-9_.-]*$' })),
  targetId: Type.Optional(Type.String({ maxLength: 200 })),
  outcome: Type.Optional(Outcome),
  from: Type.Optional(Instant),
  to: Type.Optional(Instant),
  ip: Type.Optional(Type.String({ maxLength: 64, pattern: '^[0-9A-Fa-f:.]+$' })),
};

export const AuditListQuery = Type.Object(
  {
    ...EventFilterQuery,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);
export type AuditListQuery = Static<typeof AuditListQuery>;

export const AuditExportQuery = Type.Object(
  {
    ...EventFilterQuery,
    format: Type.Optional(Type.Union([Type.Literal('jsonl'), Type.Literal('csv')], { default: 'jsonl' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 100_000 })),
  },
  { additionalProperties: false },
);
export type AuditExportQuery = Static<typeof AuditExportQuery>;

export const RangeQuery = Type.Object({ from: Type.Optional(Instant), to: Type.Optional(Instant) }, { additionalProperties: false });
export const StatsQuery = Type.Object(
  { from: Type.Optional(Instant), to: Type.Optional(Instant), bucket: Type.Optional(Type.Union([Type.Literal('hour'), Type.Literal('day')], { default: 'hour' })) },
  { additionalProperties: false },
);

export const AuditEventView = Type.Object({
  seq: Type.Integer(),
  v: Type.Integer(),
  time: Instant,
  action: Type.String(),
  actor: Type.String(),
  outcome: Outcome,
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  target: Nullable(Type.Object({ type: Nullable(Type.String()), id: Nullable(Type.String()) })),
  requestId: Nullable(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  prevHash: Type.String(),
  hash: Type.String(),
});

export const AuditPage = Type.Object({ items: Type.Array(AuditEventView), nextCursor: Nullable(Type.String()) });

export const CheckpointView = Type.Object({ v: Type.Integer(), seq: Type.Integer(), hash: Type.String(), time: Type.String(), kid: Type.String(), sig: Type.String() });
export const DamageView = Type.Object({
  kind: Type.Union([
    Type.Literal('modified'),
    Type.Literal('deleted'),
    Type.Literal('reordered'),
    Type.Literal('truncated'),
    Type.Literal('bad_signature'),
    Type.Literal('forked'),
  ]),
  seq: Type.Integer(),
  detail: Type.String(),
});

export const AuditStatus = Type.Object({
  ok: Type.Boolean(),
  summary: Type.String(),
  damage: Nullable(DamageView),
  events: Type.Integer(),
  head: Type.Object({ seq: Type.Integer(), hash: Type.String() }),
  inbox: Type.Integer(),
  lastCheckpoint: Nullable(CheckpointView),
  checkpoints: Type.Object({ total: Type.Integer(), valid: Type.Integer() }),
  kid: Nullable(Type.String()),
  verifiedInMs: Type.Integer(),
});

export const AuditReport = Type.Object({
  from: Instant,
  to: Instant,
  generatedAt: Instant,
  counts: Type.Object({
    loginsSucceeded: Type.Integer(),
    loginsFailed: Type.Integer(),
    lockouts: Type.Integer(),
    tokensRevoked: Type.Integer(),
    reuseDetections: Type.Integer(),
    rateLimitBlocks: Type.Integer(),
    adminActions: Type.Integer(),
    exports: Type.Integer(),
    denied: Type.Integer(),
    total: Type.Integer(),
  }),
  integrity: Type.Object({
    status: Type.Union([Type.Literal('intact'), Type.Literal('damaged')]),
    signed: Type.Boolean({ description: 'a signed checkpoint covers the last event of the period' }),
    seqFrom: Nullable(Type.Integer()),
    seqTo: Nullable(Type.Integer()),
    damage: Nullable(DamageView),
    summary: Type.String(),
    lastCheckpoint: Nullable(CheckpointView),
  }),
});

export const AuditStats = Type.Object({
  from: Instant,
  to: Instant,
  bucket: Type.String(),
  series: Type.Array(Type.Object({ bucket: Instant, failedLogins: Type.Integer(), limited: Type.Integer(), blocks: Type.Integer() })),
});
