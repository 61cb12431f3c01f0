/**
 * Storage: the data folder, the database (PostgreSQL or embedded PGlite, src/platform/db/) and the
 * key-value store (Redis or in-process memory, src/platform/kv/).
 */

import { int, nonEmpty, url, type SchemaSection } from '../parsers.js';

export const storageSchema = {
  DATA_DIR: {
    group: 'Storage',
    doc: 'Folder for everything the embedded mode keeps on disk: the PGlite database, generated secrets, and later files and backups.',
    default: './data',
    parse: nonEmpty,
  },
  DATABASE_URL: {
    group: 'Storage',
    doc: 'PostgreSQL (>= 14) connection URL. Unset: the embedded PGlite database under DATA_DIR/pgdata.',
    example: 'postgres://app:app@127.0.0.1:5432/portfolio',
    parse: url(['postgres', 'postgresql']),
    secret: true,
  },
  DATABASE_POOL_SIZE: {
    group: 'Storage',
    doc: 'Maximum PostgreSQL connections per process.',
    default: '10',
    parse: int(1, 200),
  },
  REDIS_URL: {
    group: 'Storage',
    doc: 'Redis URL for shared limits, blocks and revocations. Unset: in-process memory (one node only).',
    example: 'redis://127.0.0.1:6379/0',
    parse: url(['redis', 'rediss']),
    secret: true,
  },
  KV_PREFIX: {
    group: 'Storage',
    doc: 'Prefix for every key this app writes to Redis, so several apps can share one Redis.',
    default: 'pf:',
    parse: nonEmpty,
  },
} satisfies SchemaSection;
