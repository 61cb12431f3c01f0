/**
 * Secrets at rest and the hashes of one-time credentials.
 *
 * TOTP secrets must be readable by the server (it computes the codes), so they are encrypted,
 * not hashed: AES-256-GCM with a fresh 96-bit nonce per encryption (NIST SP 800-38D) and the
 * user id as additional authenticated data, so a ciphertext copied onto another user's row
 * does not decrypt. Each ciphertext names the key that made it (`key_id`), so keys rotate:
 * MFA_ENCRYPTION_KEY lists the new key first and the old ones after it until every row has
 * been rewrapped (`MfaService.rewrapSecrets`).
 *
 * The configured strings are not used as keys directly: HKDF-SHA-256 derives one subkey per
 * purpose (encryption, backup-code hashing), so the same configured key never serves two uses.
 * The key id is a hash of the derived key's id subkey: stable, and says nothing of the key.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

interface KeyEntry {
  id: string;
  encryption: Buffer;
  hashing: Buffer;
}

function derive(material: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(material, 'utf8'), Buffer.alloc(0), `portfolio-mfa:${info}`, 32));
}

export class MfaDecryptError extends Error {
  override readonly name = 'MfaDecryptError';
}

export class MfaKeyRing {
  private readonly entries: KeyEntry[];
  private readonly byId: Map<string, KeyEntry>;

  /** `keys[0]` encrypts; every key decrypts. */
  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('MfaKeyRing needs at least one key');
    this.entries = keys.map((k) => ({
      id: createHash('sha256').update(derive(k, 'key-id')).digest('hex').slice(0, 16),
      encryption: derive(k, 'totp-secret-encryption'),
      hashing: derive(k, 'backup-code-hmac'),
    }));
    this.byId = new Map(this.entries.map((e) => [e.id, e]));
  }

  get currentKeyId(): string {
    return this.entries[0]!.id;
  }

  /** Encrypts with the current key; returns `v1.<nonce>.<ciphertext+tag>` (base64url) and the key id. */
  encrypt(plaintext: string, aad: string): { ciphertext: string; keyId: string } {
    const key = this.entries[0]!;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.encryption, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { ciphertext: `${VERSION}.${nonce.toString('base64url')}.${body.toString('base64url')}`, keyId: key.id };
  }

  /** Throws MfaDecryptError for an unknown key id, a malformed value, or a failed tag check (tampering, wrong AAD). */
  decrypt(ciphertext: string, keyId: string, aad: string): string {
    const key = this.byId.get(keyId);
    if (!key) throw new MfaDecryptError(`no configured MFA_ENCRYPTION_KEY has the id ${keyId}`);
    const [version, nonceText, bodyText, ...rest] = ciphertext.split('.');
    if (version !== VERSION || !nonceText || !bodyText || rest.length > 0)
      throw new MfaDecryptError('malformed ciphertext');
    const nonce = Buffer.from(nonceText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) throw new MfaDecryptError('malformed ciphertext');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.encryption, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch (err) {
      throw new MfaDecryptError('the ciphertext does not authenticate', { cause: err });
    }
  }

  /**
   * Keyed hash of a backup code, under every configured key (the current one first). Codes carry
   * about 49 bits of entropy: a plain hash in a leaked table could be brute-forced offline; an
   * HMAC under a key that lives outside the database cannot.
   */
  backupCodeHashes(userId: string, code: string): { keyId: string; hash: string }[] {
    return this.entries.map((e) => ({
      keyId: e.id,
      hash: createHmac('sha256', e.hashing).update(`${userId}\n${code}`).digest('base64url'),
    }));
  }
}

/** SHA-256 of a high-entropy random token (mfaToken, device token): enough, nothing to brute-force. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** A new random token: 256 bits, base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison of two strings (hashes), false on different lengths. */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
