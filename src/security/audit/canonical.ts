/**
 * The chain's byte format. Everything that decides whether a row verifies lives here, free of any
 * database or Fastify import, so the offline verifier (`audit verify --bundle`) runs the exact same
 * code as the server.
 *
 *   hash = SHA-256( canonical(event) ‖ prev_hash )        (prev_hash as its 64 lowercase hex characters)
 *
 * canonical(event) is JSON with keys sorted at every level (the RFC 8785 idea, restricted to
 * what events hold), and carries `v` so the format can change without breaking old rows: a
 * verifier dispatches on each row's `v`. `seq` is inside the hashed bytes, so a row moved to
 * another position no longer verifies there.
 */
import { hash } from 'node:crypto';

export const CHAIN_VERSION = 1;
/** prev_hash of the first event ever written. */
export const GENESIS_HASH = '0'.repeat(64);

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Outcome = 'success' | 'failure' | 'denied';

/** What every event says, wherever it is (gate, inbox, chain). */
export interface EventFields {
  action: string;
  actor: string;
  outcome: Outcome;
  ip: string | null;
  userAgent: string | null;
  targetType: string | null;
  targetId: string | null;
  requestId: string | null;
  metadata: { [key: string]: Json };
}

/** An event as stored in the chain (`audit_events`). */
export interface ChainedEvent extends EventFields {
  seq: number;
  v: number;
  /** ISO 8601, UTC, millisecond precision. */
  time: string;
  prevHash: string;
  hash: string;
}

export type EventContent = Omit<ChainedEvent, 'prevHash' | 'hash'>;

/** Printable ASCII without `"` and `\`: such a string is its own JSON body (the common case, and faster). */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A JSON string literal, byte for byte what JSON.stringify produces. */
export function jsonString(s: string): string {
  return s.length < 200 && PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** Deterministic JSON: sorted keys, no whitespace; non-finite numbers become null like JSON.stringify. */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return jsonString(value);
  if (value === null || value === undefined) return 'null';
  // String(n) equals JSON.stringify(n) for every finite number (including -0 -> "0").
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value !== 'object') return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  // A loop rather than keys().filter().sort().map().join(): this runs for every row verified.
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length > 1) keys.sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${jsonString(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/** canonical(event) for format v1. Keys are written in sorted order by hand: this runs per row. */
export function encodeV1(e: EventContent): string {
  const s = (x: string | null) => (x === null ? 'null' : jsonString(x));
  const target = e.targetType === null && e.targetId === null ? 'null' : `{"id":${s(e.targetId)},"type":${s(e.targetType)}}`;
  return (
    `{"action":${s(e.action)},"actor":${s(e.actor)},"ip":${s(e.ip)},"metadata":${canonicalJson(e.metadata)},` +
    `"outcome":${s(e.outcome)},"requestId":${s(e.requestId)},"seq":${e.seq},"target":${target},` +
    `"time":${s(e.time)},"userAgent":${s(e.userAgent)},"v":1}`
  );
}

export function encodeEvent(e: EventContent): string {
  if (e.v === 1) return encodeV1(e);
  throw new Error(`unknown audit event format v${e.v}`);
}

const HEX64 = /^[0-9a-f]{64}$/;

export function isHash(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value);
}

/**
 * The hash a row must carry given its content and its predecessor's hash: SHA-256 over the UTF-8
 * bytes of canonical(event) immediately followed by the 64 lowercase hex characters of prev_hash.
 * (Hashing one string in one call is what keeps `audit verify` above 100,000 events/s.)
 */
export function chainHash(e: EventContent, prevHash: string): string {
  return hash('sha256', encodeEvent(e) + prevHash, 'hex');
}

/**
 * A row as the database's fast verification query returns it: the v1 encoding around the
 * metadata already built by the server (`pre` + canonical(metadata) + `post`). Only an
 * optimisation: when it does not match, the verifier re-checks the full row with chainHash above,
 * which alone decides.
 */
export interface PreEncodedRow {
  seq: number;
  prevHash: string;
  hash: string;
  action: string;
  metadata: { [key: string]: Json };
  pre: string | null;
  post: string | null;
}

export function preEncodedHash(r: PreEncodedRow): string | null {
  if (r.pre === null || r.post === null) return null;
  return hash('sha256', r.pre + canonicalJson(r.metadata) + r.post + r.prevHash, 'hex');
}
