/** Content features (src/content/): the scheduled-publishing job. */

import { int, type SchemaSection } from '../parsers.js';

/** 0 (off on this node), or a poll interval from 250 ms to 10 minutes. */
const pollInterval = (raw: string): number => {
  const n = int(0, 600_000)(raw);
  if (n !== 0 && n < 250) throw new Error(`must be 0 (off) or at least 250, got ${n}`);
  return n;
};

export const contentSchema = {
  CONTENT_SCHEDULE_POLL_MS: {
    group: 'Content',
    doc: 'How often scheduled publishing (publishAt/unpublishAt) runs, in ms: a due time is applied within this long. Only one node runs it at a time (a leader lease in the KV, held for two intervals); the others only try to take the lease. 0 turns the job off on this node.',
    default: '5000',
    parse: pollInterval,
  },
} satisfies SchemaSection;
