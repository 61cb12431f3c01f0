/**
 * One sealed audit event as a syslog message for a SIEM: RFC 5424 with RFC 6587 octet-counting
 * framing, the body in JSON, OCSF 1.3 or CEF. Every format carries the audit `seq` as the stable
 * id receivers deduplicate by (delivery is at least once): JSON's top-level `seq`, OCSF's
 * `metadata.sequence` and `metadata.uid`, CEF's `externalId`, and the structured data
 * `[audit@32473 seq=".."]` in every case (32473: the example enterprise number of RFC 5612).
 *
 * Written here rather than taken from a library: the syslog packages on npm build BSD (RFC 3164)
 * lines or LF framing, and none does OCSF or CEF; each format is a few escaping rules.
 */
import os from 'node:os';
import type { ChainedEvent } from '../../audit/canonical.js';

export type SiemFormat = 'json' | 'ocsf' | 'cef';

const PRODUCT = { name: 'portfolio-backend', vendor_name: 'portfolio' };
const VERSION = '0.1.0';

/** RFC 5424 facility 13 ("log audit"). Severity: warning (4) for failures and refusals, info (6) else. */
const FACILITY = 13;
function severity(e: ChainedEvent): number {
  return e.outcome === 'success' ? 6 : 4;
}

/** PRINTUSASCII without space, at most `max` characters; "-" (NILVALUE) when empty. */
function header(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** RFC 5424 §6.3.3: `"`, `\` and `]` are escaped in a PARAM-VALUE. */
function sdValue(value: string): string {
  return value.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

const HOSTNAME = header(os.hostname(), 255);

/** The RFC 5424 line (without framing). MSGID is the audit action, e.g. `auth.login.failed`. */
export function syslogMessage(e: ChainedEvent, format: SiemFormat, appName = 'portfolio'): string {
  const pri = FACILITY * 8 + severity(e);
  const sd = `[audit@32473 seq="${e.seq}" outcome="${sdValue(e.outcome)}"]`;
  return `<${pri}>1 ${e.time} ${HOSTNAME} ${header(appName, 48)} ${process.pid} ${header(e.action, 32)} ${sd} ${body(e, format)}`;
}

/** RFC 6587 §3.4.1 octet counting: `<length in bytes> <message>`. */
export function frame(message: string): Buffer {
  const bytes = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${bytes.length} `, 'ascii'), bytes]);
}

export function body(e: ChainedEvent, format: SiemFormat): string {
  if (format === 'ocsf') return JSON.stringify(ocsf(e));
  if (format === 'cef') return cef(e);
  return JSON.stringify({
    seq: e.seq,
    time: e.time,
    action: e.action,
    actor: e.actor,
    outcome: e.outcome,
    ip: e.ip,
    userAgent: e.userAgent,
    target: e.targetType || e.targetId ? { type: e.targetType, id: e.targetId } : null,
    requestId: e.requestId,
    metadata: e.metadata,
    hash: e.hash,
  });
}

// ---- OCSF 1.3 --------------------------------------------------------------------------------

const AUTHENTICATION = 3002;
const ACCOUNT_CHANGE = 3001;
const API_ACTIVITY = 6003;

/** Which OCSF class and activity an audit action is. */
export function ocsfClass(action: string): { classUid: number; categoryUid: number; activityId: number } {
  if (/^auth\.login\.|^mfa\.verify\.|^mfa\.passkey\.login\./.test(action)) {
    return { classUid: AUTHENTICATION, categoryUid: 3, activityId: 1 }; // Logon
  }
  if (action === 'auth.logout' || action === 'session.revoked') {
    return { classUid: AUTHENTICATION, categoryUid: 3, activityId: 2 }; // Logoff
  }
  if (action === 'auth.register' || action === 'invitation.accepted') {
    return { classUid: ACCOUNT_CHANGE, categoryUid: 3, activityId: 1 }; // Create
  }
  if (/^auth\.password\.|^account\.password/.test(action)) {
    return { classUid: ACCOUNT_CHANGE, categoryUid: 3, activityId: 3 }; // Password Change
  }
  if (action === 'account.locked') return { classUid: ACCOUNT_CHANGE, categoryUid: 3, activityId: 9 }; // Lock
  if (action === 'account.unlocked') return { classUid: ACCOUNT_CHANGE, categoryUid: 3, activityId: 99 }; // Other (no Unlock activity)
  if (/^mfa\.(totp\.enrolled|passkey\.registered)/.test(action)) {
    return { classUid: ACCOUNT_CHANGE, categoryUid: 3, activityId: 10 }; // MFA Factor Enable
  }
  if (/^mfa\.(disabled|reset|passkey\.removed)/.test(action)) {
    return { classUid: ACCOUNT_CHANGE, categoryUid: 3, activityId: 11 }; // MFA Factor Disable
  }
  if (/^account\.|^user\.access\.|^role\./.test(action)) {
    return { classUid: ACCOUNT_CHANGE, categoryUid: 3, activityId: 99 }; // Other
  }
  // Everything else is activity on the API: create/read/update/delete where the action says so.
  const verb = /\.(created|uploaded|registered|issued|post)$/.test(action)
    ? 1
    : /\.(read|get|export)$/.test(action)
      ? 2
      : /\.(updated|renamed|patch|put|published|unpublished|released)$/.test(action)
        ? 3
        : /\.(deleted|removed|revoked|delete|pruned)$/.test(action)
          ? 4
          : 99;
  return { classUid: API_ACTIVITY, categoryUid: 6, activityId: verb };
}

function ocsf(e: ChainedEvent): Record<string, unknown> {
  const { classUid, categoryUid, activityId } = ocsfClass(e.action);
  const failed = e.outcome !== 'success';
  return {
    class_uid: classUid,
    category_uid: categoryUid,
    activity_id: activityId,
    type_uid: classUid * 100 + activityId,
    time: Date.parse(e.time),
    severity_id: failed ? 3 : 1, // Medium for a failure or refusal, Informational else
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    status_detail: e.outcome,
    message: e.action,
    metadata: {
      version: '1.3.0',
      product: { ...PRODUCT, version: VERSION },
      log_name: 'audit',
      uid: String(e.seq),
      sequence: e.seq,
      correlation_uid: e.requestId ?? undefined,
    },
    actor: { user: { uid: e.actor } },
    ...(classUid !== API_ACTIVITY && e.targetType === 'user' && e.targetId ? { user: { uid: e.targetId } } : {}),
    ...(e.ip ? { src_endpoint: { ip: e.ip } } : {}),
    ...(e.userAgent ? { http_request: { user_agent: e.userAgent } } : {}),
    ...(classUid === API_ACTIVITY
      ? { api: { operation: e.action }, resources: e.targetId ? [{ type: e.targetType, uid: e.targetId }] : [] }
      : {}),
    unmapped: {
      action: e.action,
      target_type: e.targetType,
      target_id: e.targetId,
      metadata: e.metadata,
      hash: e.hash,
    },
  };
}

// ---- CEF -------------------------------------------------------------------------------------

/** CEF header fields escape `\` and `|`; extension values escape `\`, `=` and line breaks. */
function cefHeader(value: string): string {
  return value.replace(/[\\|]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ');
}
function cefValue(value: string): string {
  return value
    .replace(/[\\=]/g, (c) => `\\${c}`)
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n');
}

function cef(e: ChainedEvent): string {
  const ext: [string, string | number | null][] = [
    ['externalId', e.seq],
    ['rt', Date.parse(e.time)],
    ['act', e.action],
    ['outcome', e.outcome],
    ['suser', e.actor],
    ['src', e.ip],
    ['requestClientApplication', e.userAgent],
    ['cs1Label', 'targetType'],
    ['cs1', e.targetType],
    ['cs2Label', 'targetId'],
    ['cs2', e.targetId],
    ['cs3Label', 'requestId'],
    ['cs3', e.requestId],
    ['cs4Label', 'metadata'],
    ['cs4', JSON.stringify(e.metadata)],
  ];
  const extension = ext
    .filter(([, v]) => v !== null && v !== '')
    .map(([k, v]) => `${k}=${cefValue(String(v))}`)
    .join(' ');
  const sev = e.outcome === 'success' ? 3 : 6;
  return `CEF:0|${cefHeader(PRODUCT.vendor_name)}|${cefHeader(PRODUCT.name)}|${VERSION}|${cefHeader(e.action)}|${cefHeader(e.action)}|${sev}|${extension}`;
}
