import { Type, type Static } from 'typebox';

const Severity = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);
const State = Type.Union([Type.Literal('open'), Type.Literal('acknowledged')]);

export const AlertListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
    state: Type.Optional(State),
    severity: Type.Optional(Severity),
  },
  { additionalProperties: false },
);
export type AlertListQuery = Static<typeof AlertListQuery>;

export const Alert = Type.Object({
  id: Type.String({ format: 'uuid' }),
  rule: Type.String({ description: 'The detection rule (docs/MONITORING.md "Detection rules")' }),
  severity: Severity,
  summary: Type.String(),
  count: Type.Integer({ description: 'Repeats within the dedup window (or the largest measure seen)' }),
  firstSeen: Type.String({ format: 'date-time' }),
  lastSeen: Type.String({ format: 'date-time' }),
  windowEnds: Type.String({
    format: 'date-time',
    description: 'Repeats until then are counted here, not delivered again',
  }),
  firstSeq: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The audit event (seq) that raised it; null for a scheduled check',
  }),
  lastSeq: Type.Union([Type.Integer(), Type.Null()]),
  state: State,
  ackedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  ackedBy: Type.Union([Type.String(), Type.Null()]),
  link: Type.String({ description: 'PUBLIC_URL/admin/alerts/<id>, as in the mail and the webhook' }),
});
export type Alert = Static<typeof Alert>;
