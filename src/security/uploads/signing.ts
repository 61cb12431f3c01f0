/**
 * Signed media URLs: capability links that let a browser fetch one file for a few minutes without
 * a bearer token (an <img src> cannot send one).
 *
 * The signature is HMAC-SHA256 over a versioned, newline-joined string of everything the link
 * grants: the method (GET), the media id, the variant, the disposition and the expiry. Changing
 * any of them (another media id, inline instead of attachment, a later expiry) breaks it. The key
 * id travels in the URL so keys rotate without breaking live links (UPLOAD_SIGNING_OLD_KEYS).
 *
 * Checking order matters: the signature is checked first, in constant time (timingSafeEqual over
 * fixed-length digests), and only a genuine link is told it expired (410); anything else is 403,
 * so the answer never helps forge one.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { uploadErrors } from './errors.js';

export type Disposition = 'inline' | 'attachment';
export type Variant = 'display' | 'thumbnail' | 'original';

export interface SignedGrant {
  mediaId: string;
  variant: Variant;
  disposition: Disposition;
  /** Expiry, UNIX seconds. */
  expires: number;
}

export interface SigningKey {
  id: string;
  key: Buffer;
}

/** Longest lifetime a link may have, whatever UPLOAD_URL_TTL says. */
export const MAX_URL_TTL = 3600;

/** Derives the URL key from another secret (JWT_SECRET) so one configured secret is enough. */
export function deriveKey(secret: string, label: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(secret), Buffer.alloc(0), Buffer.from(`portfolio-backend:${label}`), 32),
  );
}

export class UrlSigner {
  private readonly keys: Map<string, Buffer>;

  constructor(
    private readonly current: SigningKey,
    retired: readonly SigningKey[] = [],
  ) {
    this.keys = new Map([...retired.map((k) => [k.id, k.key] as const), [current.id, current.key]]);
  }

  private mac(key: Buffer, kid: string, grant: SignedGrant): Buffer {
    const text = ['v1', kid, 'GET', grant.mediaId, grant.variant, grant.disposition, String(grant.expires)].join('\n');
    return createHmac('sha256', key).update(text).digest();
  }

  /** Query parameters of a link (appended to /api/media/:id/content). */
  sign(grant: SignedGrant): Record<string, string> {
    return {
      variant: grant.variant,
      disposition: grant.disposition,
      expires: String(grant.expires),
      kid: this.current.id,
      sig: this.mac(this.current.key, this.current.id, grant).toString('base64url'),
    };
  }

  /**
   * Checks a link's query against the media id in its path. Throws SIGNED_URL_INVALID (403) for
   * anything not signed by us, SIGNED_URL_EXPIRED (410) for a genuine link past its expiry.
   */
  verify(mediaId: string, query: Record<string, unknown>, nowSeconds: number): SignedGrant {
    const kid = typeof query['kid'] === 'string' ? query['kid'] : '';
    const sig = typeof query['sig'] === 'string' ? query['sig'] : '';
    const variant = query['variant'];
    const disposition = query['disposition'];
    const expiresRaw = typeof query['expires'] === 'string' ? query['expires'] : '';
    const key = this.keys.get(kid);
    if (
      !key ||
      !/^[A-Za-z0-9_-]{43}$/.test(sig) ||
      (variant !== 'display' && variant !== 'thumbnail' && variant !== 'original') ||
      (disposition !== 'inline' && disposition !== 'attachment') ||
      !/^[0-9]{1,12}$/.test(expiresRaw)
    ) {
      throw uploadErrors.signedUrlInvalid();
    }
    const grant: SignedGrant = { mediaId, variant, disposition, expires: Number(expiresRaw) };
    const expected = this.mac(key, kid, grant);
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw uploadErrors.signedUrlInvalid();
    // A genuine link can never be valid for longer than the cap (a leaked old key cannot mint forever-links).
    if (grant.expires > nowSeconds + MAX_URL_TTL + 60) throw uploadErrors.signedUrlInvalid();
    if (grant.expires <= nowSeconds) throw uploadErrors.signedUrlExpired();
    return grant;
  }
}
