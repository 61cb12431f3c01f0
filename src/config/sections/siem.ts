/** SIEM delivery (src/security/monitoring/siem/, docs/MONITORING.md "SIEM delivery"). */

import { int, oneOf, str, url, type SchemaSection } from '../parsers.js';

export const siemSchema = {
  SIEM_SYSLOG_URL: {
    group: 'Monitoring',
    doc: 'Where to ship every sealed audit event as RFC 5424 syslog with RFC 6587 octet-counting framing: tcp://host:port, or tls://host:port (RFC 5425). Unset: no SIEM delivery. At least once, in audit order, from a cursor in the database; one node ships at a time.',
    example: 'tls://siem.example.com:6514',
    parse: url(['tcp', 'tls']),
  },
  SIEM_FORMAT: {
    group: 'Monitoring',
    doc: 'The syslog message body: json (the event with its audit `seq` at the top level), ocsf (OCSF 1.3: Authentication 3002, Account Change 3001, API Activity 6003; metadata.sequence and metadata.uid carry the seq) or cef (ArcSight CEF; externalId carries the seq).',
    default: 'json',
    parse: oneOf(['json', 'ocsf', 'cef'] as const),
  },
  SIEM_TLS_CA_FILE: {
    group: 'Monitoring',
    doc: "PEM file of the CA that signed the SIEM receiver's certificate (tls:// only). Unset: the system's trusted CAs.",
    example: '/etc/ssl/siem-ca.pem',
    parse: str,
  },
  SIEM_CONFIRM_MS: {
    group: 'Monitoring',
    doc: 'How long a written event must stay on a healthy connection before the cursor moves past it (ms). After a broken connection the shipper resends from the cursor, so events written in this window before the break may arrive twice (receivers deduplicate by seq).',
    default: '2000',
    parse: int(100, 60_000),
  },
} satisfies SchemaSection;
