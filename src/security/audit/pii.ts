/**
 * Crypto-shredding of the personal data in the audit log (issue 19, part 3; docs/AUDIT.md
 * "Personal data", docs/PRIVACY.md "Audit log").
 *
 * The personal fields of an event (the IP, the user agent, and the metadata values named in
 * PII_METADATA_KEYS: emails, the operator's OS user...) are stored as
 *
 *   pii1:<subject>:<base64url(nonce 12 ‖ ciphertext ‖ tag 16)>      AES-256-GCM
 *
 * under a data key of their SUBJECT, with AAD = `audit-pii/1|<seq>|<field>|<subject>`, so a
 * ciphertext moved to another event, another field or another subject does not decrypt. The sealer
 * encrypts when it numbers the event (it knows the seq there) and the chain hashes the ciphertext:
 * destroying a subject's keys makes its data unreadable while every hash and every signed
 * checkpoint still verifies. Only pseudonymous ids (user ids, seq, request ids) stay in clear.
 *
 * Subjects (`<root>/<month>`: one key per person and calendar month of the event, so retention can
 * shred a month without touching the chain):
 * - `u:<user id>`   the user the event is about: for the IP and user agent the actor when it is a
 *                   user, else the target user; for an email, the target user;
 * - `e:<hmac>`      an email that is no user's (yet): an invitation's address. HMAC-SHA-256 of the
 *                   canonical email under a key derived from AUDIT_PII_KEY (so the subject is no
 *                   dictionary lookup without the key); erasing the account that owns that address
 *                   shreds it too;
 * - `a:anon`        nobody known (anonymous requests, refused ones): shredded by retention only.
 *
 * Data keys live in `audit_pii_keys`, wrapped (AES-256-GCM, AAD = the subject) by AUDIT_PII_KEY,
 * which is never in the database: a backup holds wrapped keys only. Erasure sets the wrapped key
 * of every month of the subject to null and leaves a row for the root, so an event of that
 * subject sealed later (it sat in the inbox) stores `erased-subject:<id>` instead of the value.
 *
 * Reads (the admin API, CSV/JSONL exports, the account's own events, the detection engine) go
 * through `reveal()`: one query for the keys of a page, then unwrapped keys come from a bounded
 * LRU cache keyed by the wrapped key (a key destroyed on another node is no longer in the table,
 * so the cache never serves it).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomFillSync } from 'node:crypto';
import type { Queryable } from '../../platform/db/index.js';
import { isUuid } from '../../platform/ids.js';
import type { EventFields, Json } from './canonical.js';
import type { AuditPiiRepository, PiiKeyRow } from './repository.js';

export const PII_PREFIX = 'pii1:';
export const ERASED_PREFIX = 'erased-subject:';
/** Metadata keys (top level) whose string values (or arrays of strings) are personal data. */
export const PII_METADATA_KEYS: ReadonlySet<string> = new Set([
  'email',
  'emails',
  'oldEmail',
  'newEmail',
  'previousEmail',
  'recipient',
  'osUser',
  'ip',
  'previousIp',
  'userAgent',
  'fullName',
  'displayName',
]);
const EMAIL_KEYS: ReadonlySet<string> = new Set([
  'email',
  'emails',
  'oldEmail',
  'newEmail',
  'previousEmail',
  'recipient',
]);
export const ANON_ROOT = 'a:anon';
const NONCE = 12;
const TAG = 16;
/** Unwrapped data keys kept in memory (32 bytes each plus the map entry). */
const CACHE_MAX = 4096;

export interface PiiKeyring {
  /** AUDIT_PII_KEY: wraps the data keys. */
  kek: Buffer;
}

/** The month bucket of a time: `2026-12`. */
export function bucketOf(time: string | Date): string {
  const iso = typeof time === 'string' ? time : time.toISOString();
  return iso.slice(0, 7);
}

/** The first instant after the bucket's month. */
export function bucketEnd(bucket: string): Date {
  const [y, m] = bucket.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 1));
}

export function rootOf(subject: string): string {
  const slash = subject.lastIndexOf('/');
  return slash < 0 ? subject : subject.slice(0, slash);
}

/** What an erased subject's fields read as: its user id for a user, its root otherwise. */
export function erasedPlaceholder(subject: string): string {
  const root = rootOf(subject);
  return `${ERASED_PREFIX}${root.startsWith('u:') ? root.slice(2) : root}`;
}

export function isProtected(value: unknown): value is string {
  return typeof value === 'string' && (value.startsWith(PII_PREFIX) || value.startsWith(ERASED_PREFIX));
}

function parse(value: string): { subject: string; blob: Buffer } | undefined {
  if (!value.startsWith(PII_PREFIX)) return undefined;
  const last = value.lastIndexOf(':');
  if (last <= PII_PREFIX.length) return undefined;
  return { subject: value.slice(PII_PREFIX.length, last), blob: Buffer.from(value.slice(last + 1), 'base64url') };
}

function aad(seq: number, field: string, subject: string): Buffer {
  return Buffer.from(`audit-pii/1|${seq}|${field}|${subject}`);
}

/**
 * Random 96-bit nonces, drawn from the CSPRNG 4,096 at a time: one `randomBytes` call per value cost
 * more than the encryption itself (bench/audit-pii.ts).
 */
const NONCE_POOL = Buffer.alloc(NONCE * 4096);
let noncePos = NONCE_POOL.length;
function nextNonce(): Buffer {
  if (noncePos + NONCE > NONCE_POOL.length) {
    randomFillSync(NONCE_POOL);
    noncePos = 0;
  }
  const nonce = Buffer.from(NONCE_POOL.subarray(noncePos, noncePos + NONCE));
  noncePos += NONCE;
  return nonce;
}

export function encryptValue(key: Buffer, seq: number, field: string, subject: string, plain: string): string {
  const nonce = nextNonce();
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad(seq, field, subject));
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return `${PII_PREFIX}${subject}:${Buffer.concat([nonce, ct, c.getAuthTag()]).toString('base64url')}`;
}

/** The clear value, or undefined when it does not decrypt (wrong key, seq, field or subject). */
export function decryptValue(
  key: Buffer,
  seq: number,
  field: string,
  subject: string,
  blob: Buffer,
): string | undefined {
  if (blob.length < NONCE + TAG) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, NONCE));
    d.setAAD(aad(seq, field, subject));
    d.setAuthTag(blob.subarray(blob.length - TAG));
    return Buffer.concat([d.update(blob.subarray(NONCE, blob.length - TAG)), d.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** The fields of an event that hold personal data, with their subject root. */
interface PiiField {
  field: string;
  root: string;
  get(): string;
  set(v: string): void;
}

type Content = Pick<EventFields, 'actor' | 'targetType' | 'targetId' | 'ip' | 'userAgent' | 'metadata'>;

/** Canonical email as users.email_canonical holds it (trimmed, A-Z folded). */
function canonical(email: string): string {
  return email.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}

export class AuditPii {
  private readonly cache = new Map<string, Buffer>();
  private readonly emailKey: Buffer;

  constructor(
    private readonly repo: AuditPiiRepository,
    private readonly keyring: PiiKeyring,
  ) {
    this.emailKey = Buffer.from(hkdfSync('sha256', keyring.kek, Buffer.alloc(0), 'audit-pii/email-subject', 32));
  }

  /** The subject root of an email address that is no user's: `e:<hmac>`. */
  emailRoot(email: string): string {
    return `e:${createHmac('sha256', this.emailKey).update(canonical(email)).digest('hex').slice(0, 32)}`;
  }

  private userOf(e: Content): string | null {
    if (e.targetType === 'user' && e.targetId && isUuid(e.targetId)) return e.targetId.toLowerCase();
    return null;
  }

  /** Every personal field of an event still in clear, with who it is about. */
  private fields(e: Content): PiiField[] {
    const actorUser = isUuid(e.actor) ? e.actor.toLowerCase() : null;
    const target = this.userOf(e);
    const person = actorUser ?? target;
    const requestRoot = person ? `u:${person}` : ANON_ROOT;
    const out: PiiField[] = [];
    if (e.ip !== null && !isProtected(e.ip))
      out.push({ field: 'ip', root: requestRoot, get: () => e.ip ?? '', set: (v) => (e.ip = v) });
    if (e.userAgent !== null && !isProtected(e.userAgent))
      out.push({ field: 'userAgent', root: requestRoot, get: () => e.userAgent ?? '', set: (v) => (e.userAgent = v) });
    for (const key of Object.keys(e.metadata)) {
      if (!PII_METADATA_KEYS.has(key)) continue;
      const value = e.metadata[key];
      const rootFor = (s: string) => (EMAIL_KEYS.has(key) ? (target ? `u:${target}` : this.emailRoot(s)) : requestRoot);
      if (typeof value === 'string' && !isProtected(value)) {
        out.push({
          field: `metadata.${key}`,
          root: rootFor(value),
          get: () => value,
          set: (v) => (e.metadata[key] = v),
        });
      } else if (Array.isArray(value)) {
        const arr: Json[] = value;
        arr.forEach((item, i) => {
          if (typeof item === 'string' && !isProtected(item))
            out.push({ field: `metadata.${key}.${i}`, root: rootFor(item), get: () => item, set: (v) => (arr[i] = v) });
        });
      }
    }
    return out;
  }

  /**
   * Encrypts, in place, the personal fields of events about to be chained (the sealer, in its
   * transaction: missing data keys are created there). A field of an erased subject is replaced by
   * its `erased-subject:` placeholder.
   */
  async protect(events: readonly (Content & { seq: number; time: string })[], tx: Queryable): Promise<void> {
    const work = events.map((e) => ({ e, fields: this.fields(e), bucket: bucketOf(e.time) }));
    const subjects = new Set<string>();
    for (const w of work) for (const f of w.fields) subjects.add(`${f.root}/${w.bucket}`);
    if (subjects.size === 0) return;
    const keys = await this.keysFor([...subjects], tx, true);
    for (const w of work) {
      for (const f of w.fields) {
        const subject = `${f.root}/${w.bucket}`;
        const key = keys.get(subject);
        f.set(key ? encryptValue(key, w.e.seq, f.field, subject, f.get()) : erasedPlaceholder(subject));
      }
    }
  }

  /**
   * The readable form of chained events (a copy; the rows keep their ciphertext): what still has
   * a key is decrypted, an erased subject's fields read `erased-subject:<id>`.
   */
  async reveal<T extends Content & { seq: number }>(events: readonly T[], tx?: Queryable): Promise<T[]> {
    const subjects = new Set<string>();
    const visit = (v: unknown, f: (p: { subject: string; blob: Buffer }) => void) => {
      if (typeof v === 'string') {
        const p = parse(v);
        if (p) f(p);
      }
    };
    const each = (e: T, f: (p: { subject: string; blob: Buffer }) => void) => {
      visit(e.ip, f);
      visit(e.userAgent, f);
      for (const key of Object.keys(e.metadata)) {
        if (!PII_METADATA_KEYS.has(key)) continue;
        const v = e.metadata[key];
        if (Array.isArray(v)) v.forEach((item) => visit(item, f));
        else visit(v, f);
      }
    };
    for (const e of events) each(e, (p) => subjects.add(p.subject));
    if (subjects.size === 0) return [...events];
    const keys = await this.keysFor([...subjects], tx, false);
    const open = (value: string | null, seq: number, field: string): string | null => {
      if (value === null) return null;
      const p = parse(value);
      if (!p) return value;
      const key = keys.get(p.subject);
      const clear = key ? decryptValue(key, seq, field, p.subject, p.blob) : undefined;
      // No key (shredded) or no match (moved to another event or field): nothing readable.
      return clear ?? erasedPlaceholder(p.subject);
    };
    return events.map((e) => {
      const metadata: { [key: string]: Json } = { ...e.metadata };
      for (const key of Object.keys(metadata)) {
        if (!PII_METADATA_KEYS.has(key)) continue;
        const v = metadata[key];
        if (typeof v === 'string') metadata[key] = open(v, e.seq, `metadata.${key}`);
        else if (Array.isArray(v))
          metadata[key] = v.map((item, i) =>
            typeof item === 'string' ? open(item, e.seq, `metadata.${key}.${i}`) : item,
          );
      }
      return { ...e, ip: open(e.ip, e.seq, 'ip'), userAgent: open(e.userAgent, e.seq, 'userAgent'), metadata };
    });
  }

  /**
   * Destroys every data key of the subjects (all months) and leaves a marker for each root, so
   * nothing of theirs is encrypted again. In the caller's transaction (the erasure's).
   */
  async shred(roots: readonly string[], at: Date, reason: string, tx: Queryable): Promise<number> {
    for (const root of roots) this.forgetRoot(root);
    return this.repo.destroyRoots(roots, at, reason, tx);
  }

  /** The roots of a user: its id and its email address (the events about it before it had an account). */
  rootsOfUser(userId: string, email: string | null): string[] {
    return [`u:${userId.toLowerCase()}`, ...(email ? [this.emailRoot(email)] : [])];
  }

  /** Retention: destroys the keys of every month that ended before `cutoff`. */
  async shredBefore(cutoff: Date, at: Date, tx?: Queryable): Promise<number> {
    this.cache.clear();
    return this.repo.destroyBuckets(cutoff, at, tx);
  }

  private forgetRoot(root: string): void {
    for (const id of [...this.cache.keys()]) if (id.startsWith(`${root}/`)) this.cache.delete(id);
  }

  /** subject -> data key; absent when destroyed (or, for reads, never created). */
  private async keysFor(subjects: string[], tx: Queryable | undefined, create: boolean): Promise<Map<string, Buffer>> {
    const roots = [...new Set(subjects.map(rootOf))];
    let rows = await this.repo.keys(subjects, roots, tx);
    // A row without a month is a root's erasure marker.
    const erasedRoots = new Set(rows.filter((r) => !r.subject.includes('/')).map((r) => r.subject));
    if (create) {
      const have = new Set(rows.map((r) => r.subject));
      const missing = subjects.filter((s) => !have.has(s) && !erasedRoots.has(rootOf(s)));
      if (missing.length > 0 && tx) {
        await this.repo.insertKeys(
          missing.map((s) => {
            const bucket = s.slice(s.lastIndexOf('/') + 1);
            return { subject: s, wrapped: this.wrap(s, randomBytes(32)), bucketEnd: bucketEnd(bucket) };
          }),
          tx,
        );
        rows = await this.repo.keys(subjects, roots, tx);
      }
    }
    const out = new Map<string, Buffer>();
    for (const r of rows) {
      if (r.wrapped === null || erasedRoots.has(rootOf(r.subject))) continue;
      out.set(r.subject, this.unwrap({ ...r, wrapped: r.wrapped }));
    }
    return out;
  }

  private wrap(subject: string, key: Buffer): string {
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', this.keyring.kek, nonce);
    c.setAAD(Buffer.from(`audit-pii-key/1|${subject}`));
    const ct = Buffer.concat([c.update(key), c.final()]);
    return `k1:${Buffer.concat([nonce, ct, c.getAuthTag()]).toString('base64url')}`;
  }

  private unwrap(r: PiiKeyRow & { wrapped: string }): Buffer {
    const id = `${r.subject}/${r.wrapped}`;
    const hit = this.cache.get(id);
    if (hit) {
      // LRU: most recently used last.
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
    const blob = Buffer.from(r.wrapped.slice(3), 'base64url');
    const d = createDecipheriv('aes-256-gcm', this.keyring.kek, blob.subarray(0, NONCE));
    d.setAAD(Buffer.from(`audit-pii-key/1|${r.subject}`));
    d.setAuthTag(blob.subarray(blob.length - TAG));
    const key = Buffer.concat([d.update(blob.subarray(NONCE, blob.length - TAG)), d.final()]);
    this.cache.set(id, key);
    if (this.cache.size > CACHE_MAX) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return key;
  }

  /** Cache size (the bench and tests). */
  get cached(): number {
    return this.cache.size;
  }
}

/** AUDIT_PII_KEY: 32 bytes in base64, base64url or hex (`openssl rand -base64 32` / `-hex 32`). */
export function parsePiiKey(raw: string): Buffer {
  const v = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) throw new Error('must be 32 bytes in base64');
  const key = Buffer.from(v.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
  if (key.length !== 32) throw new Error(`must be 32 bytes in base64 (got ${key.length} bytes)`);
  return key;
}
