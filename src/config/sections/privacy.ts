/**
 * Privacy (issue 19; src/security/privacy/, docs/PRIVACY.md): erasure of accounts and the
 * retention schedule of every table that holds personal data.
 */

import { int, type SchemaSection } from '../parsers.js';

// The export and notice settings are the 'Privacy' group (sections/privacy-export.ts).
const group = 'Privacy: erasure and retention';

export const privacySchema = {
  // ---- erasure (src/security/privacy/erasure/) ----
  ACCOUNT_DELETION_GRACE_DAYS: {
    group,
    doc: 'Days between an erasure request (DELETE /api/account, DELETE /api/admin/users/:id) and the erasure itself; the owner can cancel until then from the mailed link or by signing in. 0 erases at once.',
    default: '7',
    parse: int(0, 90),
  },
  ERASURE_POLL_MS: {
    group,
    doc: 'How often each node tries to run the erasure job (the node holding the leader lease runs it); 0 turns the timer off on this node.',
    default: '60000',
    parse: int(0, 86_400_000),
  },
  // ---- retention (src/security/privacy/retention/) ----
  RETENTION_SESSIONS_DAYS: {
    group,
    doc: 'Days a session (with its refresh tokens, IP and user agent) is kept after it expired or was revoked.',
    default: '30',
    parse: int(1, 3650),
  },
  RETENTION_ONE_TIME_TOKENS_DAYS: {
    group,
    doc: 'Days a one-time link (reset, verification, unlock, "was this you?", deletion cancel) is kept after it expired or was used.',
    default: '7',
    parse: int(1, 3650),
  },
  RETENTION_MAIL_DAYS: {
    group,
    doc: 'Days a sent or given-up mail (recipient, subject; its body is erased when sent) is kept in the outbox table, and a mail file in DATA_DIR/outbox (no SMTP_URL) on disk.',
    default: '30',
    parse: int(1, 3650),
  },
  RETENTION_CONTACT_MESSAGES_DAYS: {
    group,
    doc: 'Days a contact-form message (sender name and email, message) is kept after it was queued, whatever its state.',
    default: '30',
    parse: int(1, 3650),
  },
  RETENTION_SUSPICIOUS_LOGINS_DAYS: {
    group,
    doc: 'Days a known sign-in network (IP prefix) or device (browser and OS family) of an account is kept after it was last seen (suspicious-login detection).',
    default: '180',
    parse: int(1, 3650),
  },
  RETENTION_EXPORTS_DAYS: {
    group,
    doc: 'Days an account export record (account_exports) is kept after it was requested; its archive is deleted earlier by the export job.',
    default: '30',
    parse: int(1, 3650),
  },
} satisfies SchemaSection;
