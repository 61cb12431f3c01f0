/** Audit log: checkpoint signing, trusted keys and retention (src/security/audit/). */

import { parsePiiKey } from '../../security/audit/pii.js';
import { parseSigningKey, parseTrustedKeys } from '../../security/audit/signing.js';
import { int, type SchemaSection } from '../parsers.js';

export const auditSchema = {
  AUDIT_SIGNING_KEY: {
    group: 'Audit log',
    doc: 'Ed25519 key that signs audit checkpoints: PKCS#8 PEM, or its 32-byte seed in base64url. Required in production; unset elsewhere: generated once in DATA_DIR/secrets.',
    example: 'base64url-of-32-random-bytes',
    parse: (raw: string) => {
      parseSigningKey(raw);
      return raw.trim();
    },
    secret: true,
  },
  AUDIT_TRUSTED_KEYS: {
    group: 'Audit log',
    doc: 'Public keys of retired audit signing keys (comma-separated base64url, as printed by `audit public-key`), so old checkpoints still verify after a key rotation.',
    default: '',
    parse: parseTrustedKeys,
  },
  AUDIT_CHECKPOINT_EVERY: {
    group: 'Audit log',
    doc: 'Sign a checkpoint of the audit chain at least every this many events.',
    default: '1000',
    parse: int(1, 10_000_000),
  },
  AUDIT_CHECKPOINT_INTERVAL: {
    group: 'Audit log',
    doc: 'Sign a checkpoint at least every this many seconds while new audit events arrive (bounds what a tail truncation could hide).',
    default: '300',
    parse: int(1, 86_400),
  },
  AUDIT_RETENTION_DAYS: {
    group: 'Audit log',
    doc: 'Audit events older than this many days are exported to a verifiable bundle and deleted by `audit prune`.',
    default: '365',
    parse: int(1, 36_500),
  },
  AUDIT_PII_KEY: {
    group: 'Audit log',
    doc: 'Key (32 bytes in base64 or hex, e.g. `openssl rand -hex 32`) that wraps the per-subject data keys encrypting the personal data in audit events (IP, user agent, emails); never stored in the database. Required in production; unset elsewhere: generated once in DATA_DIR/secrets. Losing it makes that data unreadable (the chain still verifies).',
    example: 'base64-of-32-random-bytes',
    parse: parsePiiKey,
    secret: true,
  },
  AUDIT_PII_RETENTION_DAYS: {
    group: 'Audit log',
    doc: 'The personal data of audit events older than this many days is shredded (its monthly data keys destroyed, by the retention job) while the events and the chain stay; 0 keeps it as long as the events.',
    default: '180',
    parse: int(0, 36_500),
  },
} satisfies SchemaSection;
