/** Detection rules and operator alerts (src/security/monitoring/, docs/MONITORING.md). */

import { ruleFileParser } from '../../security/monitoring/detection/rule-spec.js';
import { resolveRules } from '../../security/monitoring/detection/rules.js';
import { int, list, minLength, oneOf, url, type Parser, type SchemaSection } from '../parsers.js';

/** ALERT_EMAILS: comma-separated addresses, each checked (no display names, no control characters). */
const emailList: Parser<string[]> = (raw) => {
  const items = list(raw);
  for (const item of items) {
    if (!/^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(item)) throw new Error(`"${item}" is not an email address`);
  }
  return items;
};

/** ALERT_WEBHOOK_URL: http(s), no user info (it would be sent to the receiver and logged), no fragment. */
const webhookUrl: Parser<string> = (raw) => {
  const v = url(['http', 'https'])(raw);
  const u = new URL(v);
  if (u.username !== '' || u.password !== '' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(v)) {
    throw new Error('must not contain user info (user:password@): the receiver checks ALERT_WEBHOOK_SECRET instead');
  }
  if (u.hash !== '' || v.includes('#')) throw new Error('must not have a fragment');
  return v;
};

/** OTEL_EXPORTER_OTLP_ENDPOINT: http(s), no user info, query or fragment (the path /v1/traces is appended). */
const otlpEndpoint: Parser<string> = (raw) => {
  const v = url(['http', 'https'])(raw);
  const u = new URL(v);
  if (u.username !== '' || u.password !== '' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(v)) {
    throw new Error('must not contain user info (user:password@)');
  }
  if (u.search !== '' || u.hash !== '' || /[?#]/.test(v)) throw new Error('must not have a query or a fragment');
  return v.replace(/\/+$/, '');
};

/** OTEL_SERVICE_NAME: a short printable name. */
const serviceName: Parser<string> = (raw) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(raw)) {
    throw new Error('must be 1-100 letters, digits, ".", "_" or "-"');
  }
  return raw;
};

/** MONITORING_RULES_FILE: the file's rules, checked merged with the built-ins (a new rule must be complete). */
const rulesFile: Parser<ReturnType<typeof ruleFileParser>> = (raw) => {
  const specs = ruleFileParser(raw);
  resolveRules(specs);
  return specs;
};

export const monitoringSchema = {
  MONITORING_RULES_FILE: {
    group: 'Monitoring and alerts',
    doc: 'JSON file of detection rules that change, add or turn off built-in ones (see docs/MONITORING.md), read and checked at boot.',
    example: './monitoring-rules.json',
    parse: rulesFile,
  },
  MONITORING_POLL_INTERVAL: {
    group: 'Monitoring and alerts',
    doc: 'Seconds between runs of the detection consumer and of the alert webhook delivery (the leader node reads new audit events); 0 stops both on this node.',
    default: '5',
    parse: int(0, 3600),
  },
  ALERT_EMAILS: {
    group: 'Monitoring and alerts',
    doc: 'Comma-separated addresses that receive operator alerts by mail (through the mail outbox). Empty: no alert mail.',
    example: 'oncall@example.com,security@example.com',
    parse: emailList,
  },
  ALERT_WEBHOOK_URL: {
    group: 'Monitoring and alerts',
    doc: 'http(s) URL that receives each alert as a signed POST (needs ALERT_WEBHOOK_SECRET). Unset: no webhook.',
    example: 'https://hooks.example.com/portfolio-alerts',
    parse: webhookUrl,
  },
  ALERT_WEBHOOK_FORMAT: {
    group: 'Monitoring and alerts',
    doc: 'Webhook body: json ({id, rule, severity, summary, count, firstSeen, lastSeen, link}) or slack (a Slack-compatible message).',
    default: 'json',
    parse: oneOf(['json', 'slack'] as const),
  },
  ALERT_WEBHOOK_SECRET: {
    group: 'Monitoring and alerts',
    doc: 'Secret (at least 32 characters) that signs each webhook: X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">.',
    example: 'a-long-random-secret-shared-with-the-receiver',
    parse: minLength(32, ' (it is all that proves an alert came from this server)'),
    secret: true,
  },
  ALERT_WEBHOOK_MAX_ATTEMPTS: {
    group: 'Monitoring and alerts',
    doc: 'Webhook delivery attempts per alert before it is given up (retries back off exponentially from 30 s to 1 h).',
    default: '12',
    parse: int(1, 50),
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    group: 'Monitoring and alerts',
    doc: 'OpenTelemetry collector base URL (OTLP/HTTP JSON; spans go to <url>/v1/traces): traces of requests and their database queries. Unset: tracing is off and its modules are never loaded.',
    example: 'http://127.0.0.1:4318',
    parse: otlpEndpoint,
  },
  OTEL_SERVICE_NAME: {
    group: 'Monitoring and alerts',
    doc: 'service.name of the traces (with OTEL_EXPORTER_OTLP_ENDPOINT).',
    default: 'portfolio-cms',
    parse: serviceName,
  },
} satisfies SchemaSection;
