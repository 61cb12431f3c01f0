/** The SIEM shipper's cursor per destination (src/platform/db/migrations/0019_siem_cursor.ts). */
import type { Queryable } from '../../../platform/db/index.js';

export class SiemRepository {
  constructor(private readonly db: Queryable) {}

  /** The seq confirmed delivered to `destination`, or undefined before its first delivery. */
  async cursor(destination: string): Promise<number | undefined> {
    const rows = await this.db.query<{ seq: string | number }>(`select seq from siem_cursors where destination = $1`, [
      destination,
    ]);
    return rows[0] ? Number(rows[0].seq) : undefined;
  }

  /** Moves the cursor forward only: a shipper that lost its lease while paused cannot move it back. */
  async save(destination: string, seq: number, now: Date): Promise<void> {
    await this.db.query(
      `insert into siem_cursors (destination, seq, updated_at) values ($1, $2, $3)
       on conflict (destination) do update set seq = greatest(siem_cursors.seq, excluded.seq), updated_at = excluded.updated_at`,
      [destination, seq, now],
    );
  }

  /** The newest sealed seq (0 when the chain is empty). */
  async head(): Promise<number> {
    const rows = await this.db.query<{ seq: string | number | null }>(`select max(seq) as seq from audit_events`);
    return Number(rows[0]?.seq ?? 0);
  }
}
