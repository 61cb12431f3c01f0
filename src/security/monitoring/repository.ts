/** The readings /metrics takes from the database at scrape time (never on the request path). */
import type { Queryable } from '../../platform/db/index.js';

export class MonitoringRepository {
  constructor(private readonly db: Queryable) {}

  /** Media rows per pipeline status (a closed set: the media table's check constraint). */
  async mediaByStatus(): Promise<{ status: string; n: number }[]> {
    return this.db.query<{ status: string; n: number }>(`select status, count(*)::int as n from media group by status`);
  }

  /** Audit events committed but not yet sealed into the chain, and the oldest one's time. */
  async auditInbox(): Promise<{ n: number; oldest: Date | null }> {
    const rows = await this.db.query<{ n: number; oldest: Date | string | null }>(
      `select count(*)::int as n, min(time) as oldest from audit_inbox`,
    );
    const row = rows[0];
    const oldest = row?.oldest == null ? null : new Date(row.oldest);
    return { n: row?.n ?? 0, oldest };
  }
}
