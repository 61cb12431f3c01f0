/**
 * Privacy: the data export (right of access) and the privacy notice the contact form asks its
 * senders to accept (src/security/privacy/export/, src/security/privacy/notice/, docs/PRIVACY.md).
 */

import { int, nonEmpty, type Parser, type SchemaSection } from '../parsers.js';

/** A notice version: 1-64 visible ASCII characters (it is shown to visitors and stored with each message). */
export const noticeVersion: Parser<string> = (raw) => {
  const value = raw.trim();
  if (!/^[\x21-\x7e]{1,64}$/.test(value)) throw new Error('must be 1-64 visible ASCII characters, e.g. 2026-01');
  return value;
};

export const privacyExportSchema = {
  PRIVACY_EXPORT_LINK_TTL: {
    group: 'Privacy',
    doc: 'Seconds a data-export download link (GET /api/account/exports/:id) stays valid. Each link works once; the archive itself is deleted 7 days after it was built.',
    default: '300',
    parse: int(30, 3600),
  },
  PRIVACY_EXPORT_POLL_MS: {
    group: 'Privacy',
    doc: 'How often the export job looks for requested exports, in ms. Only one node builds at a time (a leader lease in the KV, and a claim in the row). 0 turns the job off on this node.',
    default: '5000',
    parse: int(0, 3_600_000),
  },
  PRIVACY_NOTICE_FILE: {
    group: 'Privacy',
    doc: 'A UTF-8 text or Markdown-like plain text file with the privacy notice served at /privacy (escaped, shown as text). Unset: the notice text saved in the site settings (privacyNotice), if any.',
    example: '/etc/portfolio/privacy.txt',
    parse: nonEmpty,
  },
  PRIVACY_NOTICE_VERSION: {
    group: 'Privacy',
    doc: "The privacy notice's version that contact-form senders accept (privacyNoticeVersion). Unset: sha256- and the first 16 hex digits of the notice text's SHA-256, so any change of the text is a new version.",
    example: '2026-01',
    parse: noticeVersion,
  },
} satisfies SchemaSection;
