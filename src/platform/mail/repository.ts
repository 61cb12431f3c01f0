/**
 * The only SQL of the mail outbox. Rows are claimed with an atomic UPDATE over a
 * `FOR UPDATE SKIP LOCKED` subquery plus a lease (`claimed_until`): two nodes polling at the same
 * moment get disjoint rows, and a node that dies mid-send gives its rows back when the lease runs
 * out. On PGlite (one connection) the single statement is atomic by itself.
 */
import type { Queryable } from '../db/index.js';

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'dead';

export interface OutboxRow {
  id: string;
  template: string;
  toAddress: string;
  toName: string | null;
  replyTo: string | null;
  subject: string;
  textBody: string;
  htmlBody: string | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  claimToken: string | null;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

const COLUMNS = `id, template, to_address as "toAddress", to_name as "toName", reply_to as "replyTo",
  subject, text_body as "textBody", html_body as "htmlBody", status, attempts,
  next_attempt_at as "nextAttemptAt", claim_token as "claimToken", last_error as "lastError",
  created_at as "createdAt", sent_at as "sentAt"`;

export class OutboxRepository {
  constructor(private readonly db: Queryable) {}

  async create(
    row: Pick<
      OutboxRow,
      'id' | 'template' | 'toAddress' | 'toName' | 'replyTo' | 'subject' | 'textBody' | 'htmlBody' | 'createdAt'
    >,
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into mail_outbox (id, template, to_address, to_name, reply_to, subject, text_body, html_body,
         next_attempt_at, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
      [
        row.id,
        row.template,
        row.toAddress,
        row.toName,
        row.replyTo,
        row.subject,
        row.textBody,
        row.htmlBody,
        row.createdAt,
      ],
    );
  }

  async get(id: string, tx: Queryable = this.db): Promise<OutboxRow | undefined> {
    const rows = await tx.query<OutboxRow>(`select ${COLUMNS} from mail_outbox where id = $1`, [id]);
    return rows[0];
  }

  /**
   * Claims up to `limit` due rows for `claimToken` until `leaseUntil`, counting the attempt.
   * A row is due when its next attempt has come and no live lease holds it.
   */
  async claim(
    now: Date,
    limit: number,
    claimToken: string,
    leaseUntil: Date,
    tx: Queryable = this.db,
  ): Promise<OutboxRow[]> {
    return tx.query<OutboxRow>(
      `update mail_outbox set status = 'sending', claim_token = $1, claimed_until = $2, attempts = attempts + 1
       where id in (
         select id from mail_outbox
         where status in ('pending', 'sending') and next_attempt_at <= $3
           and (claimed_until is null or claimed_until <= $3)
         order by next_attempt_at, id
         limit $4
         for update skip locked)
       returning ${COLUMNS}`,
      [claimToken, leaseUntil, now, limit],
    );
  }

  /** Sent: the body (one-time links) is erased. Only the holder of the claim may settle a row. */
  async markSent(id: string, claimToken: string, now: Date, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query(
      `update mail_outbox set status = 'sent', sent_at = $3, claim_token = null, claimed_until = null,
         last_error = null, text_body = '', html_body = null, body_purged = true
       where id = $1 and claim_token = $2 returning id`,
      [id, claimToken, now],
    );
    return rows.length === 1;
  }

  /** A failed attempt: retried at `retryAt`, or given up (`dead`, body erased) when null. */
  async markFailed(
    id: string,
    claimToken: string,
    error: string,
    retryAt: Date | null,
    tx: Queryable = this.db,
  ): Promise<boolean> {
    const rows = await tx.query(
      retryAt
        ? `update mail_outbox set status = 'pending', next_attempt_at = $4, claim_token = null, claimed_until = null,
             last_error = $3 where id = $1 and claim_token = $2 returning id`
        : `update mail_outbox set status = 'dead', claim_token = null, claimed_until = null, last_error = $3,
             text_body = '', html_body = null, body_purged = true where id = $1 and claim_token = $2 returning id`,
      retryAt ? [id, claimToken, error, retryAt] : [id, claimToken, error],
    );
    return rows.length === 1;
  }

  /** Rows per status (health, metrics, tests). */
  async counts(tx: Queryable = this.db): Promise<Record<OutboxStatus, number>> {
    const rows = await tx.query<{ status: OutboxStatus; n: number }>(
      `select status, count(*)::int as n from mail_outbox group by status`,
    );
    const out: Record<OutboxStatus, number> = { pending: 0, sending: 0, sent: 0, dead: 0 };
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }

  /** Deletes settled rows older than `before` (their bodies are already gone). */
  async deleteSettled(before: Date, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query(
      `delete from mail_outbox where status in ('sent', 'dead') and created_at < $1 returning id`,
      [before],
    );
    return rows.length;
  }
}
