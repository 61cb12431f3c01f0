/**
 * The only SQL of the audit log. Every method takes an optional transaction.
 */
import type { Queryable } from '../../platform/db/index.js';
import { GENESIS_HASH, type ChainedEvent, type Outcome, type PreEncodedRow } from './canonical.js';
import type { CleanEvent } from './event.js';
import type { Checkpoint } from './signing.js';

/**
 * Advisory lock of the sealer: one sealer at a time across every node sharing the database. Keyed
 * by schema, so apps (or test runs) in separate schemas of one database do not wait for each other.
 */
export const SEALER_LOCK_SQL = `select pg_advisory_xact_lock(hashtext('portfolio-backend:audit-sealer:' || current_schema()))`;

export interface InboxRow extends CleanEvent {
  id: number;
}

export interface PruneRecord {
  toSeq: number;
  fromSeq: number;
  anchorHash: string;
  bundleSha256: string;
  bundleFile: string;
  time: Date;
}

export interface EventFilter {
  actor?: string | undefined;
  /** Prefix of the dotted action: `auth.login` matches `auth.login.failed`. */
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  outcome?: Outcome | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  ip?: string | undefined;
  /** Keyset: only rows with seq below this (newest first) or above it (oldest first). */
  beforeSeq?: number | undefined;
  afterSeq?: number | undefined;
}

// Time as text straight from the server, to the microsecond: faster than parsing a Date per row,
// and a timestamp nudged by less than a millisecond still changes the hashed bytes (see toChained).
const EVENT_COLUMNS = `seq, v, to_char(time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as time, action, actor, outcome, ip, user_agent as "userAgent", target_type as "targetType",
  target_id as "targetId", request_id as "requestId", metadata, prev_hash as "prevHash", hash`;

type RawEvent = Omit<ChainedEvent, 'seq' | 'time' | 'v'> & {
  seq: string | number | bigint;
  v: number;
  time: Date | string;
};

/** `2026-03-01T12:00:00.123000Z` -> `2026-03-01T12:00:00.123Z`; any other precision is kept as is (and will not verify). */
function isoTime(t: Date | string): string {
  if (t instanceof Date) return t.toISOString();
  return t.length === 27 && t.endsWith('000Z') ? `${t.slice(0, 23)}Z` : t;
}

/** Normalises a row in place (no copy: the verifier maps hundreds of thousands of rows). */
export function toChained(r: RawEvent): ChainedEvent {
  const e = r as unknown as ChainedEvent;
  e.seq = Number(r.seq);
  e.v = Number(r.v);
  e.time = isoTime(r.time);
  return e;
}

/** `like` pattern matching values that start with `prefix` (wildcards in the prefix are literal). */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class AuditRepository {
  constructor(private readonly db: Queryable) {}

  async insertInbox(e: CleanEvent, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      `insert into audit_inbox (time, action, actor, outcome, ip, user_agent, target_type, target_id, request_id, metadata)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        e.time,
        e.action,
        e.actor,
        e.outcome,
        e.ip,
        e.userAgent,
        e.targetType,
        e.targetId,
        e.requestId,
        JSON.stringify(e.metadata),
      ],
    );
  }

  async inboxSize(tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(`select count(*)::int as n from audit_inbox`);
    return rows[0]?.n ?? 0;
  }

  /**
   * Sealer only, inside its transaction: takes the sealer lock, then removes and returns the
   * oldest committed inbox rows (one round trip: `audit_take_inbox`).
   */
  async takeInbox(limit: number, tx: Queryable): Promise<InboxRow[]> {
    const rows = await tx.query<InboxRow & { id: string | number }>(
      `select id, time, action, actor, outcome, ip, user_agent as "userAgent", target_type as "targetType",
              target_id as "targetId", request_id as "requestId", metadata
         from audit_take_inbox($1) order by id`,
      [limit],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  /** The newest chained row, or the prune anchor, or genesis. */
  async head(tx: Queryable = this.db): Promise<{ seq: number; hash: string }> {
    const rows = await tx.query<{ seq: string | number; hash: string }>(
      `select seq, hash from audit_events order by seq desc limit 1`,
    );
    const row = rows[0];
    if (row) return { seq: Number(row.seq), hash: row.hash };
    const prune = await this.latestPrune(tx);
    return prune ? { seq: prune.toSeq, hash: prune.anchorHash } : { seq: 0, hash: GENESIS_HASH };
  }

  async insertChained(events: readonly ChainedEvent[], tx: Queryable): Promise<void> {
    if (events.length === 0) return;
    const payload = events.map((e) => ({
      seq: e.seq,
      v: e.v,
      time: e.time,
      action: e.action,
      actor: e.actor,
      outcome: e.outcome,
      ip: e.ip,
      user_agent: e.userAgent,
      target_type: e.targetType,
      target_id: e.targetId,
      request_id: e.requestId,
      metadata: e.metadata,
      prev_hash: e.prevHash,
      hash: e.hash,
    }));
    await tx.query(
      `insert into audit_events (seq, v, time, action, actor, outcome, ip, user_agent, target_type, target_id, request_id, metadata, prev_hash, hash)
       select seq, v, time, action, actor, outcome, ip, user_agent, target_type, target_id, request_id, metadata, prev_hash, hash
         from jsonb_to_recordset($1::jsonb) as x(seq bigint, v smallint, time timestamptz, action text, actor text, outcome text,
              ip text, user_agent text, target_type text, target_id text, request_id text, metadata jsonb, prev_hash text, hash text)`,
      [JSON.stringify(payload)],
    );
  }

  /** Rows with afterSeq < seq <= toSeq, oldest first (verification and export pages). */
  async range(afterSeq: number, limit: number, toSeq?: number, tx: Queryable = this.db): Promise<ChainedEvent[]> {
    const rows = await tx.query<RawEvent>(
      `select ${EVENT_COLUMNS} from audit_events where seq > $1 and ($2::bigint is null or seq <= $2::bigint) order by seq limit $3`,
      [afterSeq, toSeq ?? null, limit],
    );
    return rows.map(toChained);
  }

  /**
   * The verifier's page: the v1 encoding around the metadata is built by the server
   * (`to_json(text)` escapes exactly as JSON.stringify does), so this thread only canonicalises the
   * metadata and hashes. Any row this cannot render exactly (another `v`, odd characters) simply
   * fails the fast check and is re-checked in full.
   */
  async verifyPage(afterSeq: number, limit: number, tx: Queryable = this.db): Promise<PreEncodedRow[]> {
    const rows = await tx.query<Omit<PreEncodedRow, 'seq'> & { seq: string | number }>(
      `select seq, prev_hash as "prevHash", hash, action, metadata,
              case when v = 1 then '{"action":' || to_json(action)::text || ',"actor":' || to_json(actor)::text
                   || ',"ip":' || coalesce(to_json(ip)::text, 'null') || ',"metadata":' end as pre,
              case when v = 1 then ',"outcome":' || to_json(outcome)::text || ',"requestId":' || coalesce(to_json(request_id)::text, 'null')
                   || ',"seq":' || seq::text || ',"target":'
                   || case when target_type is null and target_id is null then 'null'
                           else '{"id":' || coalesce(to_json(target_id)::text, 'null') || ',"type":' || coalesce(to_json(target_type)::text, 'null') || '}' end
                   || ',"time":"' || case when date_trunc('milliseconds', time) = time
                                          then to_char(time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                                          else to_char(time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') end
                   || '","userAgent":' || coalesce(to_json(user_agent)::text, 'null') || ',"v":1}' end as post
         from audit_events where seq > $1 order by seq limit $2`,
      [afterSeq, limit],
    );
    for (const r of rows) (r as PreEncodedRow).seq = Number(r.seq);
    return rows as PreEncodedRow[];
  }

  async getBySeq(seq: number, tx: Queryable = this.db): Promise<ChainedEvent | undefined> {
    const rows = await tx.query<RawEvent>(`select ${EVENT_COLUMNS} from audit_events where seq = $1`, [seq]);
    return rows[0] ? toChained(rows[0]) : undefined;
  }

  /** Where the row chained onto `prevHash` sits (reorder diagnosis only: no index, runs on damage). */
  async seqByPrevHash(prevHash: string, tx: Queryable = this.db): Promise<number | undefined> {
    const rows = await tx.query<{ seq: string | number }>(
      `select seq from audit_events where prev_hash = $1 order by seq limit 1`,
      [prevHash],
    );
    return rows[0] ? Number(rows[0].seq) : undefined;
  }

  async bounds(tx: Queryable = this.db): Promise<{ min: number | null; max: number | null; count: number }> {
    const rows = await tx.query<{ min: string | number | null; max: string | number | null; count: number }>(
      `select min(seq) as min, max(seq) as max, count(*)::int as count from audit_events`,
    );
    const r = rows[0];
    return {
      min: r?.min == null ? null : Number(r.min),
      max: r?.max == null ? null : Number(r.max),
      count: r?.count ?? 0,
    };
  }

  /** The seq range of events whose time lies in [from, to). */
  async seqRangeForTime(
    from: Date | undefined,
    to: Date | undefined,
    tx: Queryable = this.db,
  ): Promise<{ min: number | null; max: number | null }> {
    const rows = await tx.query<{ min: string | number | null; max: string | number | null }>(
      `select min(seq) as min, max(seq) as max from audit_events
        where ($1::timestamptz is null or time >= $1::timestamptz) and ($2::timestamptz is null or time < $2::timestamptz)`,
      [from ?? null, to ?? null],
    );
    const r = rows[0];
    return { min: r?.min == null ? null : Number(r.min), max: r?.max == null ? null : Number(r.max) };
  }

  /** The first seq at or after which events are kept: everything before it is older than cutoff. */
  async firstSeqNotBefore(cutoff: Date, tx: Queryable = this.db): Promise<number | null> {
    const rows = await tx.query<{ seq: string | number | null }>(
      `select min(seq) as seq from audit_events where time >= $1`,
      [cutoff],
    );
    const s = rows[0]?.seq;
    return s == null ? null : Number(s);
  }

  async query(
    filter: EventFilter,
    limit: number,
    order: 'asc' | 'desc' = 'desc',
    tx: Queryable = this.db,
  ): Promise<ChainedEvent[]> {
    const { sql, params } = whereOf(filter);
    params.push(limit);
    const rows = await tx.query<RawEvent>(
      `select ${EVENT_COLUMNS} from audit_events ${sql} order by seq ${order === 'asc' ? 'asc' : 'desc'} limit $${params.length}`,
      params,
    );
    return rows.map(toChained);
  }

  /**
   * The security events of one account, newest first: events about it (target the user: failed
   * sign-ins against it, an admin's changes) and its own events about no other user (its
   * sessions). An event about another user is never one of them, whoever wrote it.
   */
  async accountEvents(
    userId: string,
    actionPrefixes: readonly string[],
    limit: number,
    beforeSeq?: number,
    tx: Queryable = this.db,
  ): Promise<ChainedEvent[]> {
    const rows = await tx.query<RawEvent>(
      `select ${EVENT_COLUMNS} from audit_events
        where ((target_type = 'user' and target_id = $1) or (actor = $1 and (target_type is null or target_type <> 'user')))
          and action like any($2::text[])
          and ($3::bigint is null or seq < $3::bigint)
        order by seq desc limit $4`,
      [userId.toLowerCase(), actionPrefixes.map(likePrefix), beforeSeq ?? null, limit],
    );
    return rows.map(toChained);
  }

  /** Event counts per action prefix family in a time range. */
  async countFamilies(
    families: Record<string, readonly string[]>,
    from: Date | undefined,
    to: Date | undefined,
    tx: Queryable = this.db,
  ): Promise<Record<string, number>> {
    const names = Object.keys(families);
    const params: unknown[] = [from ?? null, to ?? null];
    const cols = names.map((name) => {
      const ors = (families[name] ?? []).map((prefix) => {
        params.push(prefix, likePrefix(`${prefix}.`));
        return `action = $${params.length - 1} or action like $${params.length}`;
      });
      return `count(*) filter (where ${ors.join(' or ') || 'false'})::int as "${name.replace(/[^A-Za-z]/g, '')}"`;
    });
    const rows = await tx.query<Record<string, number>>(
      `select ${cols.join(', ')}, count(*)::int as "total",
              count(*) filter (where outcome = 'denied')::int as "denied",
              count(*) filter (where action like 'http.%' and metadata->>'route' like '/api/admin/%')::int as "adminActions"
         from audit_events
        where ($1::timestamptz is null or time >= $1::timestamptz) and ($2::timestamptz is null or time < $2::timestamptz)`,
      params,
    );
    return rows[0] ?? {};
  }

  /** Counts per time bucket for the dashboard charts. */
  async series(
    from: Date,
    to: Date,
    bucketSeconds: number,
    tx: Queryable = this.db,
  ): Promise<{ bucket: Date; failedLogins: number; limited: number; blocks: number }[]> {
    const rows = await tx.query<{ b: string | number; failedLogins: number; limited: number; blocks: number }>(
      `select floor(extract(epoch from time) / $3)::bigint as b,
              count(*) filter (where action = 'auth.login.failed')::int as "failedLogins",
              coalesce(sum(case when action = 'http.limited' then coalesce((metadata->>'count')::int, 1)
                                when action like 'ratelimit.limited%' then 1 else 0 end), 0)::int as "limited",
              coalesce(sum(case when action = 'http.blocked' then coalesce((metadata->>'count')::int, 1)
                                when action like 'ratelimit.block%' or action like 'shield.block%' then 1 else 0 end), 0)::int as "blocks"
         from audit_events
        where time >= $1 and time < $2
        group by 1 order by 1`,
      [from, to, bucketSeconds],
    );
    return rows.map((r) => ({
      bucket: new Date(Number(r.b) * bucketSeconds * 1000),
      failedLogins: r.failedLogins,
      limited: r.limited,
      blocks: r.blocks,
    }));
  }

  // ---- retention ---------------------------------------------------------------------------

  async latestPrune(tx: Queryable = this.db): Promise<PruneRecord | undefined> {
    const rows = await tx.query<PruneRecord & { toSeq: string | number; fromSeq: string | number }>(
      `select to_seq as "toSeq", from_seq as "fromSeq", anchor_hash as "anchorHash", bundle_sha256 as "bundleSha256",
              bundle_file as "bundleFile", time
         from audit_prunes order by to_seq desc limit 2`,
    );
    const r = rows[0];
    return r ? { ...r, toSeq: Number(r.toSeq), fromSeq: Number(r.fromSeq) } : undefined;
  }

  async prunes(tx: Queryable = this.db): Promise<PruneRecord[]> {
    const rows = await tx.query<PruneRecord & { toSeq: string | number; fromSeq: string | number }>(
      `select to_seq as "toSeq", from_seq as "fromSeq", anchor_hash as "anchorHash", bundle_sha256 as "bundleSha256",
              bundle_file as "bundleFile", time
         from audit_prunes order by to_seq`,
    );
    return rows.map((r) => ({ ...r, toSeq: Number(r.toSeq), fromSeq: Number(r.fromSeq) }));
  }

  async insertPrune(p: PruneRecord, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      `insert into audit_prunes (to_seq, from_seq, anchor_hash, bundle_sha256, bundle_file, time) values ($1, $2, $3, $4, $5, $6)`,
      [p.toSeq, p.fromSeq, p.anchorHash, p.bundleSha256, p.bundleFile, p.time],
    );
  }

  /** One batch of the retention procedure; returns the rows deleted. */
  async pruneBatch(upTo: number, batch: number, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(`select audit_prune_batch($1, $2) as n`, [upTo, batch]);
    return Number(rows[0]?.n ?? 0);
  }
}

/** The signed checkpoints of the chain (`audit_checkpoints`): written by the sealer, read by verification. */
export class AuditCheckpointRepository {
  constructor(private readonly db: Queryable) {}

  async insert(c: Checkpoint, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query(
      `insert into audit_checkpoints (seq, hash, time, kid, signature) values ($1, $2, $3, $4, $5)
       on conflict (seq) do nothing returning seq`,
      [c.seq, c.hash, c.time, c.kid, c.sig],
    );
    return rows.length > 0;
  }

  async list(fromSeq = 0, toSeq?: number, tx: Queryable = this.db): Promise<Checkpoint[]> {
    const rows = await tx.query<{ seq: string | number; hash: string; time: Date; kid: string; signature: string }>(
      `select seq, hash, time, kid, signature from audit_checkpoints
        where seq >= $1 and ($2::bigint is null or seq <= $2::bigint) order by seq`,
      [fromSeq, toSeq ?? null],
    );
    return rows.map((r) => ({
      v: 1,
      seq: Number(r.seq),
      hash: r.hash,
      time: new Date(r.time).toISOString(),
      kid: r.kid,
      sig: r.signature,
    }));
  }

  async latest(tx: Queryable = this.db): Promise<Checkpoint | undefined> {
    const rows = await tx.query<{ seq: string | number; hash: string; time: Date; kid: string; signature: string }>(
      `select seq, hash, time, kid, signature from audit_checkpoints order by seq desc limit 1`,
    );
    const r = rows[0];
    return r
      ? { v: 1, seq: Number(r.seq), hash: r.hash, time: new Date(r.time).toISOString(), kid: r.kid, sig: r.signature }
      : undefined;
  }
}

function whereOf(f: EventFilter): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where: string[] = [];
  const add = (clause: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(`$${params.length}`));
  };
  if (f.actor) add((p) => `actor = ${p}`, f.actor.toLowerCase());
  if (f.action) add((p) => `action like ${p}`, likePrefix(f.action));
  if (f.targetType) add((p) => `target_type = ${p}`, f.targetType);
  if (f.targetId) add((p) => `target_id = ${p}`, f.targetId);
  if (f.outcome) add((p) => `outcome = ${p}`, f.outcome);
  if (f.from) add((p) => `time >= ${p}`, f.from);
  if (f.to) add((p) => `time < ${p}`, f.to);
  if (f.ip) add((p) => `ip = ${p}`, f.ip);
  if (f.beforeSeq !== undefined) add((p) => `seq < ${p}`, f.beforeSeq);
  if (f.afterSeq !== undefined) add((p) => `seq > ${p}`, f.afterSeq);
  return { sql: where.length > 0 ? `where ${where.join(' and ')}` : '', params };
}

export interface PiiKeyRow {
  subject: string;
  wrapped: string | null;
}

export interface RechainRecord {
  state: 'pending' | 'done' | 'refused';
  /** The anchor the re-chain started after (0 = genesis). */
  afterSeq: number | null;
  /** The last re-chained row. */
  headSeq: number | null;
  /** The `audit.pii.rechained` event: a signed checkpoint there vouches for the re-chained rows. */
  sealSeq: number | null;
  detail: string | null;
}

/**
 * The audit log's personal-data keys (`audit_pii_keys`, ./pii.ts) and the one-time re-chain of the
 * events sealed before encryption (`audit_pii_rechain`).
 */
export class AuditPiiRepository {
  constructor(private readonly db: Queryable) {}

  /** The rows of these subjects and of these roots' erasure markers. */
  async keys(subjects: readonly string[], roots: readonly string[], tx: Queryable = this.db): Promise<PiiKeyRow[]> {
    return tx.query<PiiKeyRow>(
      `select subject, wrapped from audit_pii_keys where subject = any($1::text[]) or subject = any($2::text[])`,
      [subjects, roots],
    );
  }

  async insertKeys(
    rows: readonly { subject: string; wrapped: string; bucketEnd: Date }[],
    tx: Queryable,
  ): Promise<void> {
    await tx.query(
      `insert into audit_pii_keys (subject, wrapped, bucket_end, created_at)
       select subject, wrapped, bucket_end, now() from jsonb_to_recordset($1::jsonb) as x(subject text, wrapped text, bucket_end timestamptz)
       on conflict (subject) do nothing`,
      [
        JSON.stringify(
          rows.map((r) => ({ subject: r.subject, wrapped: r.wrapped, bucket_end: r.bucketEnd.toISOString() })),
        ),
      ],
    );
  }

  /** Destroys every month's key of the roots and leaves one marker row per root. */
  async destroyRoots(roots: readonly string[], at: Date, reason: string, tx: Queryable): Promise<number> {
    if (roots.length === 0) return 0;
    const rows = await tx.query<{ subject: string }>(
      `update audit_pii_keys set wrapped = null, destroyed_at = $2, destroyed_reason = $3
        where wrapped is not null and split_part(subject, '/', 1) = any($1::text[]) returning subject`,
      [roots, at, reason],
    );
    await tx.query(
      `insert into audit_pii_keys (subject, wrapped, bucket_end, created_at, destroyed_at, destroyed_reason)
       select r, null, null, $2, $2, $3 from unnest($1::text[]) as r on conflict (subject) do nothing`,
      [roots, at, reason],
    );
    return rows.length;
  }

  /** Retention: destroys the keys of the months that ended at or before the cutoff. */
  async destroyBuckets(cutoff: Date, at: Date, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ subject: string }>(
      `update audit_pii_keys set wrapped = null, destroyed_at = $2, destroyed_reason = 'retention'
        where wrapped is not null and bucket_end <= $1 returning subject`,
      [cutoff, at],
    );
    return rows.length;
  }

  async countBuckets(cutoff: Date, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(
      `select count(*)::int as n from audit_pii_keys where wrapped is not null and bucket_end <= $1`,
      [cutoff],
    );
    return rows[0]?.n ?? 0;
  }

  /** Keys still able to decrypt something, and destroyed ones (status, tests). */
  async keyCounts(tx: Queryable = this.db): Promise<{ live: number; destroyed: number }> {
    const rows = await tx.query<{ live: number; destroyed: number }>(
      `select count(*) filter (where wrapped is not null)::int as live,
              count(*) filter (where wrapped is null and bucket_end is not null)::int as destroyed
         from audit_pii_keys`,
    );
    return rows[0] ?? { live: 0, destroyed: 0 };
  }

  async rechain(tx: Queryable = this.db): Promise<RechainRecord | undefined> {
    const rows = await tx.query<{
      state: RechainRecord['state'];
      afterSeq: string | number | null;
      headSeq: string | number | null;
      sealSeq: string | number | null;
      detail: string | null;
    }>(
      `select state, after_seq as "afterSeq", head_seq as "headSeq", seal_seq as "sealSeq", detail from audit_pii_rechain where id = 1`,
    );
    const r = rows[0];
    if (!r) return undefined;
    const n = (v: string | number | null) => (v === null ? null : Number(v));
    return { state: r.state, afterSeq: n(r.afterSeq), headSeq: n(r.headSeq), sealSeq: n(r.sealSeq), detail: r.detail };
  }

  async setRechain(
    fields: { state: RechainRecord['state']; afterSeq?: number; headSeq?: number; sealSeq?: number; detail?: string },
    at: Date,
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `update audit_pii_rechain set state = $1, after_seq = coalesce($2, after_seq), head_seq = coalesce($3, head_seq),
              seal_seq = coalesce($4, seal_seq), detail = coalesce($5, detail), updated_at = $6
        where id = 1`,
      [
        fields.state,
        fields.afterSeq ?? null,
        fields.headSeq ?? null,
        fields.sealSeq ?? null,
        fields.detail ?? null,
        at,
      ],
    );
  }

  /**
   * Rewrites the personal columns and the hashes of chained rows: only while the re-chain is
   * pending (the append-only trigger refuses any other update, migration 0020).
   */
  async rewriteChained(events: readonly ChainedEvent[], tx: Queryable): Promise<void> {
    if (events.length === 0) return;
    await tx.query(`select set_config('audit.rechain', 'on', true)`);
    await tx.query(
      `update audit_events e set ip = x.ip, user_agent = x.user_agent, metadata = x.metadata, prev_hash = x.prev_hash, hash = x.hash
         from jsonb_to_recordset($1::jsonb) as x(seq bigint, ip text, user_agent text, metadata jsonb, prev_hash text, hash text)
        where e.seq = x.seq`,
      [
        JSON.stringify(
          events.map((e) => ({
            seq: e.seq,
            ip: e.ip,
            user_agent: e.userAgent,
            metadata: e.metadata,
            prev_hash: e.prevHash,
            hash: e.hash,
          })),
        ),
      ],
    );
    await tx.query(`select set_config('audit.rechain', 'off', true)`);
  }
}
