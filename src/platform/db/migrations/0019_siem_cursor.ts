import type { Migration } from '../migrate.js';

/**
 * SIEM delivery (src/security/monitoring/siem/): per destination, the audit `seq` up to which
 * events are confirmed delivered. The shipper resends from here after any break, so nothing sealed
 * is lost while a receiver is down (at least once; receivers deduplicate by seq).
 */
export const m0019: Migration = {
  id: 19,
  name: 'siem_cursor',
  sql: `
create table siem_cursors (
  destination text primary key,
  seq bigint not null,
  updated_at timestamptz not null
);
`,
};
