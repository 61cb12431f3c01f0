/** The only SQL of site settings: one row per saved setting (key, JSON value). */
import type { Queryable } from '../platform/db/index.js';

export interface SettingRow {
  key: string;
  value: unknown;
  updatedAt: Date;
}

export class SettingsRepository {
  constructor(private readonly db: Queryable) {}

  async list(tx: Queryable = this.db): Promise<SettingRow[]> {
    return tx.query<SettingRow>(`select key, value, updated_at as "updatedAt" from site_settings order by key`);
  }

  /** Serialises changes, so each audit event's "before" is what the change replaced. */
  async lock(tx: Queryable): Promise<void> {
    await tx.query(`select pg_advisory_xact_lock(hashtext('site_settings'))`);
  }

  async put(key: string, value: unknown, by: string, now: Date, tx: Queryable): Promise<void> {
    await tx.query(
      `insert into site_settings (key, value, updated_by, updated_at) values ($1, $2::jsonb, $3, $4)
       on conflict (key) do update set value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      [key, JSON.stringify(value), by, now],
    );
  }

  async remove(key: string, tx: Queryable): Promise<void> {
    await tx.query(`delete from site_settings where key = $1`, [key]);
  }
}
