/**
 * The event every module writes, and the gate it passes before storage. Secrets never enter the
 * log (OWASP Logging Cheat Sheet: "never log session ids, access tokens, passwords, keys"):
 *
 * - the shape is fixed by a schema: a dotted lowercase `action`, an `actor` that is a user id,
 *   `system` or `anonymous`, an `outcome` from a closed list: a malformed event is refused (a bug);
 * - metadata fields whose name says secret (password, token, secret, session id, key, TOTP/OTP,
 *   code, cookie, authorization...) are kept but their value is replaced by `[redacted]`;
 * - any string that looks like a credential (a JWT, a Bearer header, a password hash, a PEM
 *   private key) is redacted wherever it appears, including the user agent and target id;
 * - CR, LF and other control characters are written as visible escapes (`\n`), so a crafted user
 *   agent cannot forge a line in a text export or a log viewer (log injection, CWE-117);
 * - sizes are capped so one event cannot bloat the table.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { EventFields, Json } from './canonical.js';
import { auditErrors } from './errors.js';

export const OUTCOMES = ['success', 'failure', 'denied'] as const;

const ACTION_PATTERN = '^[a-z][a-z0-9_]*(\\.[a-z0-9_]+){1,5}$';
const ACTOR_PATTERN = '^(system|anonymous|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$';

/** What a module passes to `app.audit.record(event, tx?)`. */
export const AuditEventInput = Type.Object(
  {
    action: Type.String({ pattern: ACTION_PATTERN, maxLength: 100, description: 'dotted, e.g. auth.login.failed' }),
    actor: Type.String({ pattern: ACTOR_PATTERN, description: 'a user id, system or anonymous' }),
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
    target: Type.Optional(
      Type.Union([
        Type.Object(
          { type: Type.String({ pattern: '^[a-z][a-z0-9_.-]{0,49}$' }), id: Type.String({ minLength: 1, maxLength: 400 }) },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    ip: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
    userAgent: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    requestId: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** Set by the log itself from its clock; modules do not pass it. */
    time: Type.Optional(Type.Unsafe<Date>({})),
  },
  { additionalProperties: false },
);
export type AuditEventInput = Static<typeof AuditEventInput>;

/** The request-derived part of an event (`app.audit.contextOf(request)`). */
export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/**
 * An event about one user: the user is the actor (unless `actor` says otherwise) and the target;
 * with no user (an unknown account, a refused token) both are anonymous. The shape every security
 * module (tokens, MFA, accounts) writes for its own events.
 */
export function userEvent(
  action: string,
  userId: string | null,
  outcome: AuditEventInput['outcome'],
  context: RequestContext,
  metadata: Record<string, unknown> = {},
  actor?: string,
): AuditEventInput {
  return {
    action,
    actor: actor ?? userId ?? 'anonymous',
    outcome,
    target: userId ? { type: 'user', id: userId } : null,
    metadata,
    ...context,
  };
}

/** An event after the gate: what goes into the inbox. */
export interface CleanEvent extends EventFields {
  time: Date;
}

const check = Compile(AuditEventInput);

export const REDACTED = '[redacted]';

/** Field names whose values are secrets whatever they hold. */
const SECRET_NAME =
  /pass(word|wd|phrase)?|secret|token|session_?id|sessionid|^sid$|api_?key|private_?key|signing_?key|^key$|totp|otp|^code$|mfa_?code|backup_?code|recovery_?code|authorization|cookie|credential/i;

/** Values that are credentials wherever they appear. */
const SECRET_VALUES: RegExp[] = [
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, // Authorization header values
  /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, // JWT / JWS
  /\$argon2(id|i|d)\$[^\s"']+/g, // argon2 hashes
  /\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}/g, // bcrypt hashes
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];

const LIMITS = { string: 1000, userAgent: 512, keys: 50, array: 50, depth: 4, metadataBytes: 8192 };

/** Control characters (C0, DEL, C1, line/paragraph separators) become visible escapes. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/** A lone UTF-16 surrogate: PostgreSQL refuses it in jsonb, which would fail the caller's transaction. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
function neutralise(s: string): string {
  return s.replace(LONE_SURROGATE, '\ufffd').replace(CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Redacts credential-looking substrings, neutralises control characters, caps the length. */
export function cleanString(s: string, max = LIMITS.string): string {
  let out = s;
  for (const re of SECRET_VALUES) out = out.replace(re, REDACTED);
  return truncate(neutralise(out), max);
}

function cleanValue(value: unknown, depth: number): Json {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
      return cleanString(value);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
      if (depth >= LIMITS.depth) return '[truncated]';
      if (Array.isArray(value)) {
        const items = value.slice(0, LIMITS.array).map((v) => cleanValue(v, depth + 1));
        if (value.length > LIMITS.array) items.push(`[${value.length - LIMITS.array} more]`);
        return items;
      }
      return cleanObject(value as Record<string, unknown>, depth + 1);
    }
    default:
      return null;
  }
}

function cleanObject(obj: Record<string, unknown>, depth: number): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  let n = 0;
  for (const [rawKey, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    if (++n > LIMITS.keys) {
      out['_truncated'] = true;
      break;
    }
    const key = truncate(neutralise(rawKey), 100);
    // The name decides before the value is looked at: a password is redacted even when it does
    // not look like one.
    out[key] = SECRET_NAME.test(rawKey) && v !== null && v !== false ? REDACTED : cleanValue(v, depth);
  }
  return out;
}

/** Metadata after redaction; oversized metadata is replaced by a marker rather than stored. */
export function cleanMetadata(metadata: Record<string, unknown> | undefined): { [key: string]: Json } {
  if (!metadata) return {};
  const out = cleanObject(metadata, 0);
  const size = Buffer.byteLength(JSON.stringify(out));
  return size > LIMITS.metadataBytes ? { _truncated: true, _bytes: size } : out;
}

/**
 * Validates and cleans an event. Throws AUDIT_EVENT_INVALID for a malformed event: that is a bug
 * in the calling module, and refusing it (which rolls back the caller's transaction) is safer
 * than storing an event nobody can query by action or actor.
 */
export function cleanEvent(input: AuditEventInput, now: Date): CleanEvent {
  if (!check.Check(input)) {
    const first = [...check.Errors(input)][0];
    throw auditErrors.invalidEvent(`${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`);
  }
  const ip = input.ip ? cleanString(input.ip, 64) : null;
  return {
    time: input.time ?? now,
    action: input.action,
    actor: input.actor.toLowerCase(),
    outcome: input.outcome,
    ip,
    userAgent: input.userAgent ? cleanString(input.userAgent, LIMITS.userAgent) : null,
    targetType: input.target?.type ?? null,
    targetId: input.target ? cleanString(input.target.id, 200) : null,
    requestId: input.requestId ? cleanString(input.requestId, 100) : null,
    metadata: cleanMetadata(input.metadata),
  };
}
