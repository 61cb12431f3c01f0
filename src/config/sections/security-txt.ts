/** Vulnerability disclosure: RFC 9116 security.txt (src/http/security-txt.ts). */

import { contactList, expiresInstant, languageTags, uriOf } from '../../http/security-txt-rfc.js';
import type { SchemaSection } from '../parsers.js';

export const securityTxtSchema = {
  SECURITY_CONTACT: {
    group: 'Vulnerability disclosure',
    doc: 'security.txt Contact: comma-separated mailto:, https: or tel: URIs for vulnerability reports. Required in production; unset elsewhere: mailto:security@ the PUBLIC_URL host.',
    example: 'mailto:security@example.com',
    parse: contactList,
  },
  SECURITY_TXT_EXPIRES: {
    group: 'Vulnerability disclosure',
    doc: 'security.txt Expires: an ISO 8601 date or date-time at most a year ahead. Required in production and refused there once past; the server warns at boot when under 30 days remain. Unset elsewhere: 90 days from now.',
    example: '2027-06-30T00:00:00Z',
    parse: (raw: string) => expiresInstant(raw),
  },
  SECURITY_POLICY_URL: {
    group: 'Vulnerability disclosure',
    doc: 'security.txt Policy: https URL of the disclosure policy. Unset: PUBLIC_URL/security-policy, where the server publishes SECURITY.md.',
    example: 'https://example.com/security-policy',
    parse: uriOf(['https'], 'Policy'),
  },
  SECURITY_ENCRYPTION_URL: {
    group: 'Vulnerability disclosure',
    doc: 'security.txt Encryption (optional): where to fetch the OpenPGP key for reports, as an https:, openpgp4fpr: or dns: URI.',
    example: 'https://example.com/pgp-key.txt',
    parse: uriOf(['https', 'openpgp4fpr', 'dns'], 'Encryption'),
  },
  SECURITY_ACKNOWLEDGMENTS_URL: {
    group: 'Vulnerability disclosure',
    doc: 'security.txt Acknowledgments (optional): https URL of the page thanking reporters.',
    example: 'https://example.com/hall-of-fame',
    parse: uriOf(['https'], 'Acknowledgments'),
  },
  SECURITY_PREFERRED_LANGUAGES: {
    group: 'Vulnerability disclosure',
    doc: 'security.txt Preferred-Languages: comma-separated language tags reports may be written in.',
    default: 'en',
    parse: languageTags,
  },
} satisfies SchemaSection;
