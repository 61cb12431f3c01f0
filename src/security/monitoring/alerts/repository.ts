/**
 * The only SQL of detection and alerts: the consumer's cursor, the admins' known networks, the
 * alerts and the webhook queue (migration 0018). Every method takes an optional transaction.
 */
import type { ChainedEvent } from '../../audit/canonical.js';
import { toChained } from '../../audit/repository.js';
import type { Db, Queryable } from '../../../platform/db/index.js';
import type { Severity } from '../detection/rule-spec.js';

export type AlertState = 'open' | 'acknowledged';

export interface AlertRow {
  id: string;
  rule: string;
  severity: Severity;
  dedupKey: string;
  summary: string;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  windowEnds: Date;
  firstSeq: number | null;
  lastSeq: number | null;
  state: AlertState;
  ackedAt: Date | null;
  ackedBy: string | null;
  createdAt: Date;
}

export interface DeliveryRow {
  id: string;
  alertId: string;
  body: string;
  attempts: number;
}

const ALERT_COLUMNS = `id, rule, severity, dedup_key as "dedupKey", summary, count, first_seen as "firstSeen",
  last_seen as "lastSeen", window_ends as "windowEnds", first_seq as "firstSeq", last_seq as "lastSeq", state,
  acked_at as "ackedAt", acked_by as "ackedBy", created_at as "createdAt"`;

type RawAlert = Omit<
  AlertRow,
  'firstSeq' | 'lastSeq' | 'firstSeen' | 'lastSeen' | 'windowEnds' | 'ackedAt' | 'createdAt'
> & {
  firstSeq: string | number | null;
  lastSeq: string | number | null;
  firstSeen: Date | string;
  lastSeen: Date | string;
  windowEnds: Date | string;
  ackedAt: Date | string | null;
  createdAt: Date | string;
};

function toAlert(r: RawAlert): AlertRow {
  return {
    ...r,
    firstSeq: r.firstSeq === null ? null : Number(r.firstSeq),
    lastSeq: r.lastSeq === null ? null : Number(r.lastSeq),
    firstSeen: new Date(r.firstSeen),
    lastSeen: new Date(r.lastSeen),
    windowEnds: new Date(r.windowEnds),
    ackedAt: r.ackedAt === null ? null : new Date(r.ackedAt),
    createdAt: new Date(r.createdAt),
  };
}

// Time as ISO text from the server (as the audit repository reads it).
const EVENT_COLUMNS = `seq, v, to_char(time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as time, action, actor, outcome, ip, user_agent as "userAgent", target_type as "targetType",
  target_id as "targetId", request_id as "requestId", metadata, prev_hash as "prevHash", hash`;

export const DETECTION_CURSOR = 'detection';

export class AlertsRepository {
  constructor(private readonly db: Db) {}

  // ---- the consumer ------------------------------------------------------------------------

  /** The cursor row, locked until the transaction ends (one consumer pass at a time across nodes). */
  async lockCursor(tx: Queryable, name = DETECTION_CURSOR, now = new Date()): Promise<number> {
    await tx.query(
      `insert into monitoring_cursor (name, seq, updated_at) values ($1, 0, $2) on conflict (name) do nothing`,
      [name, now],
    );
    const rows = await tx.query<{ seq: string | number }>(
      `select seq from monitoring_cursor where name = $1 for update`,
      [name],
    );
    return Number(rows[0]?.seq ?? 0);
  }

  async cursor(name = DETECTION_CURSOR, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ seq: string | number }>(`select seq from monitoring_cursor where name = $1`, [name]);
    return Number(rows[0]?.seq ?? 0);
  }

  async advanceCursor(seq: number, now: Date, tx: Queryable, name = DETECTION_CURSOR): Promise<void> {
    await tx.query(`update monitoring_cursor set seq = $2, updated_at = $3 where name = $1`, [name, seq, now]);
  }

  /** Sealed events after `afterSeq`, oldest first. */
  async eventsAfter(afterSeq: number, limit: number, tx: Queryable = this.db): Promise<ChainedEvent[]> {
    const rows = await tx.query<Parameters<typeof toChained>[0]>(
      `select ${EVENT_COLUMNS} from audit_events where seq > $1 order by seq limit $2`,
      [afterSeq, limit],
    );
    return rows.map(toChained);
  }

  /** Sealed events with afterSeq < seq <= toSeq and time >= since, oldest first (the replay). */
  async eventsForReplay(
    afterSeq: number,
    toSeq: number,
    since: Date,
    limit: number,
    tx: Queryable = this.db,
  ): Promise<ChainedEvent[]> {
    const rows = await tx.query<Parameters<typeof toChained>[0]>(
      `select ${EVENT_COLUMNS} from audit_events where seq > $1 and seq <= $2 and time >= $3 order by seq limit $4`,
      [afterSeq, toSeq, since, limit],
    );
    return rows.map(toChained);
  }

  /** Time of the event at `seq` (the cursor's), if it is still retained. */
  async eventTime(seq: number, tx: Queryable = this.db): Promise<Date | undefined> {
    const rows = await tx.query<{ time: Date | string }>(`select time from audit_events where seq = $1`, [seq]);
    return rows[0] ? new Date(rows[0].time) : undefined;
  }

  /** Records that `actor` acted from `network`; true when it is new for that actor, and whether the actor had any before. */
  async noteAdminNetwork(
    actor: string,
    network: string,
    at: Date,
    tx: Queryable,
  ): Promise<{ isNew: boolean; hadAny: boolean }> {
    const known = await tx.query<{ n: number }>(
      `select count(*)::int as n from monitoring_admin_networks where actor = $1`,
      [actor],
    );
    const inserted = await tx.query<{ actor: string }>(
      `insert into monitoring_admin_networks (actor, network, first_seen) values ($1, $2, $3)
       on conflict (actor, network) do nothing returning actor`,
      [actor, network, at],
    );
    return { isNew: inserted.length > 0, hadAny: (known[0]?.n ?? 0) > 0 };
  }

  // ---- alerts ------------------------------------------------------------------------------

  /** The alert of this rule and key whose dedup window is still open at `at`, locked. */
  async openWindow(rule: string, dedupKey: string, at: Date, tx: Queryable): Promise<AlertRow | undefined> {
    const rows = await tx.query<RawAlert>(
      `select ${ALERT_COLUMNS} from alerts where rule = $1 and dedup_key = $2 and window_ends > $3
       order by window_ends desc limit 1 for update`,
      [rule, dedupKey, at],
    );
    return rows[0] ? toAlert(rows[0]) : undefined;
  }

  async insert(a: Omit<AlertRow, 'state' | 'ackedAt' | 'ackedBy'>, tx: Queryable): Promise<void> {
    await tx.query(
      `insert into alerts (id, rule, severity, dedup_key, summary, count, first_seen, last_seen, window_ends, first_seq, last_seq, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        a.id,
        a.rule,
        a.severity,
        a.dedupKey,
        a.summary,
        a.count,
        a.firstSeen,
        a.lastSeen,
        a.windowEnds,
        a.firstSeq,
        a.lastSeq,
        a.createdAt,
      ],
    );
  }

  /** A repeat inside the dedup window: the count (the larger measure, or one more), last seen, last seq. */
  async bump(id: string, count: number, lastSeen: Date, lastSeq: number | null, tx: Queryable): Promise<void> {
    await tx.query(
      `update alerts set count = greatest(count + 1, $2), last_seen = greatest(last_seen, $3),
         last_seq = coalesce($4, last_seq) where id = $1`,
      [id, count, lastSeen, lastSeq],
    );
  }

  async get(id: string, tx: Queryable = this.db): Promise<AlertRow | undefined> {
    const rows = await tx.query<RawAlert>(`select ${ALERT_COLUMNS} from alerts where id = $1`, [id]);
    return rows[0] ? toAlert(rows[0]) : undefined;
  }

  /** Newest first, keyset on id (v7: creation order). */
  async list(filter: {
    state?: AlertState | undefined;
    severity?: Severity | undefined;
    before?: string | undefined;
    limit: number;
  }): Promise<AlertRow[]> {
    const rows = await this.db.query<RawAlert>(
      `select ${ALERT_COLUMNS} from alerts
       where ($1::text is null or state = $1) and ($2::text is null or severity = $2) and ($3::uuid is null or id < $3::uuid)
       order by id desc limit $4`,
      [filter.state ?? null, filter.severity ?? null, filter.before ?? null, filter.limit],
    );
    return rows.map(toAlert);
  }

  /** Acknowledges an open alert; undefined when there is none with that id. */
  async ack(id: string, by: string, at: Date, tx: Queryable = this.db): Promise<AlertRow | undefined> {
    const rows = await tx.query<RawAlert>(
      `update alerts set state = 'acknowledged', acked_at = coalesce(acked_at, $3), acked_by = coalesce(acked_by, $2)
       where id = $1 returning ${ALERT_COLUMNS}`,
      [id, by, at],
    );
    return rows[0] ? toAlert(rows[0]) : undefined;
  }

  // ---- webhook queue -----------------------------------------------------------------------

  async enqueueDelivery(d: { id: string; alertId: string; body: string; at: Date }, tx: Queryable): Promise<void> {
    await tx.query(
      `insert into alert_webhook_deliveries (id, alert_id, body, next_attempt_at, created_at) values ($1, $2, $3, $4, $4)`,
      [d.id, d.alertId, d.body, d.at],
    );
  }

  /** Claims due deliveries for `leaseMs` (a crashed sender's claim runs out and another retries). */
  async claimDue(now: Date, leaseMs: number, limit: number): Promise<DeliveryRow[]> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<DeliveryRow>(
        `select id, alert_id as "alertId", body, attempts from alert_webhook_deliveries
         where status = 'pending' and next_attempt_at <= $1 and (claimed_until is null or claimed_until <= $1)
         order by next_attempt_at limit $2 for update skip locked`,
        [now, limit],
      );
      if (rows.length > 0) {
        await tx.query(`update alert_webhook_deliveries set claimed_until = $2 where id = any($1::uuid[])`, [
          rows.map((r) => r.id),
          new Date(now.getTime() + leaseMs),
        ]);
      }
      return rows;
    });
  }

  async markSent(id: string, at: Date): Promise<void> {
    await this.db.query(
      `update alert_webhook_deliveries set status = 'sent', sent_at = $2, attempts = attempts + 1, claimed_until = null, last_error = null where id = $1`,
      [id, at],
    );
  }

  async markFailed(id: string, error: string, next: Date | null): Promise<void> {
    await this.db.query(
      `update alert_webhook_deliveries set attempts = attempts + 1, claimed_until = null, last_error = $2,
         status = case when $3::timestamptz is null then 'dead' else 'pending' end,
         next_attempt_at = coalesce($3::timestamptz, next_attempt_at) where id = $1`,
      [id, error, next],
    );
  }

  async deliveries(alertId: string): Promise<{ status: string; attempts: number; lastError: string | null }[]> {
    return this.db.query(
      `select status, attempts, last_error as "lastError" from alert_webhook_deliveries where alert_id = $1 order by created_at`,
      [alertId],
    );
  }
}
