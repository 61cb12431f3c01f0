/**
 * Webhook signatures, Stripe-style, and the receiver's check: the reference implementation that
 * docs/MONITORING.md documents (copy it into a receiver; it needs only node:crypto).
 *
 *   X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * The timestamp is inside the signed bytes, so it cannot be changed without the secret. A
 * receiver protects itself against replay with both:
 *   1. a tolerance window on `t` (default 5 minutes): an old capture is refused;
 *   2. deduplication by the alert `id` in the body for at least that window: a capture replayed
 *      inside the window is refused (or acknowledged without acting twice).
 * Retries of one delivery are signed again with a fresh `t`, with the same body and so the same id.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-signature';

/** `t=<unix>,v1=<hex>` for `body` at `unixSeconds`. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

export type VerifyFailure = 'missing' | 'malformed' | 'bad_signature' | 'too_old' | 'too_new' | 'replayed';

export interface VerifyWebhookInput {
  secret: string;
  /** The X-Signature header as received. */
  header: string | string[] | undefined;
  /** The raw body bytes as received (before any JSON parsing). */
  body: string | Buffer;
  /** The receiver's clock, in unix seconds. */
  nowSeconds: number;
  /** Largest accepted |now - t|, in seconds. */
  toleranceSeconds?: number;
  /**
   * Ids already accepted (kept at least `toleranceSeconds`): the alert id of a valid delivery is
   * checked against and then added to it. Without it the receiver must deduplicate itself.
   */
  seen?: { has(id: string): boolean; add(id: string): unknown };
}

export type VerifyWebhookResult = { ok: true; id: string | null; t: number } | { ok: false; reason: VerifyFailure };

/** The receiver's check: signature (constant time), freshness of `t`, then the alert id not seen before. */
export function verifyWebhook(input: VerifyWebhookInput): VerifyWebhookResult {
  const tolerance = input.toleranceSeconds ?? 300;
  const header = Array.isArray(input.header) ? input.header[0] : input.header;
  if (!header) return { ok: false, reason: 'missing' };
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) signatures.push(v);
  }
  if (t === undefined || signatures.length === 0) return { ok: false, reason: 'malformed' };
  const body = typeof input.body === 'string' ? input.body : input.body.toString('utf8');
  const expected = Buffer.from(createHmac('sha256', input.secret).update(`${t}.${body}`).digest('hex'));
  if (!signatures.some((s) => timingSafeEqual(Buffer.from(s), expected))) return { ok: false, reason: 'bad_signature' };
  if (input.nowSeconds - t > tolerance) return { ok: false, reason: 'too_old' };
  if (t - input.nowSeconds > tolerance) return { ok: false, reason: 'too_new' };
  let id: string | null = null;
  try {
    const parsed = JSON.parse(body) as { id?: unknown };
    id = typeof parsed.id === 'string' ? parsed.id : null;
  } catch {
    id = null;
  }
  if (id !== null && input.seen) {
    if (input.seen.has(id)) return { ok: false, reason: 'replayed' };
    input.seen.add(id);
  }
  return { ok: true, id, t };
}
