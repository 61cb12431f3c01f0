/**
 * Ed25519 checkpoints. A checkpoint `{v, seq, hash, time, kid}` is signed over its canonical JSON;
 * anyone holding the public key can check it offline. The private key never enters the database,
 * so an attacker who rewrites the chain there cannot produce checkpoints that match it.
 *
 * Which keys are trusted comes from configuration only (the configured signing key, plus
 * AUDIT_TRUSTED_KEYS for retired keys), never from the database or the bundle being verified:
 * otherwise a forger would simply ship their own public key.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.js';

export interface Checkpoint {
  v: 1;
  seq: number;
  hash: string;
  /** ISO 8601 UTC. */
  time: string;
  kid: string;
  /** base64url Ed25519 signature over canonicalJson({v, seq, hash, time, kid}). */
  sig: string;
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** base64url of the raw 32-byte public key. */
  publicKeyRaw: string;
}

/** kid -> public key. */
export type TrustedKeys = Map<string, KeyObject>;

// DER prefixes of PKCS#8 / SPKI Ed25519 keys (RFC 8410): the raw 32 bytes follow.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A stable key id: the first 16 hex characters of SHA-256 of the raw public key. */
export function keyIdOf(publicKeyRaw: Buffer): string {
  return createHash('sha256').update(publicKeyRaw).digest('hex').slice(0, 16);
}

function rawPublic(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

/**
 * AUDIT_SIGNING_KEY: a PKCS#8 PEM Ed25519 private key, or the base64url (or hex) 32-byte seed.
 * Throws with a message that says what was expected, never echoing the value.
 */
export function parseSigningKey(raw: string): SigningKey {
  const text = raw.trim();
  let privateKey: KeyObject;
  try {
    if (text.startsWith('-----BEGIN')) {
      privateKey = createPrivateKey({ key: text, format: 'pem' });
    } else {
      const seed = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64url');
      if (seed.length !== 32) throw new Error('length');
      privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    }
  } catch {
    throw new Error('must be an Ed25519 private key: PKCS#8 PEM, or its 32-byte seed in base64url or hex');
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('must be an Ed25519 key');
  const publicKey = createPublicKey(privateKey);
  const raw32 = rawPublic(publicKey);
  return { kid: keyIdOf(raw32), privateKey, publicKey, publicKeyRaw: raw32.toString('base64url') };
}

export function publicKeyFromRaw(raw: string): KeyObject {
  const bytes = Buffer.from(raw.trim(), 'base64url');
  if (bytes.length !== 32) throw new Error('an Ed25519 public key is 32 bytes (base64url)');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, bytes]), format: 'der', type: 'spki' });
}

/**
 * AUDIT_TRUSTED_KEYS: comma-separated base64url raw public keys (as printed by
 * `audit public-key`), optionally written `kid=key`. The kid is always recomputed from the key,
 * so a mislabelled entry cannot vouch for another key's checkpoints.
 */
export function parseTrustedKeys(raw: string): { kid: string; key: string }[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((item) => {
      const key = item.includes('=') ? item.slice(item.indexOf('=') + 1) : item;
      let bytes: Buffer;
      try {
        bytes = Buffer.from(rawPublic(publicKeyFromRaw(key)));
      } catch {
        throw new Error(`"${item.slice(0, 20)}..." is not a base64url Ed25519 public key`);
      }
      return { kid: keyIdOf(bytes), key: bytes.toString('base64url') };
    });
}

export function trustedKeys(signing: SigningKey | undefined, extra: readonly { kid: string; key: string }[]): TrustedKeys {
  const keys: TrustedKeys = new Map();
  if (signing) keys.set(signing.kid, signing.publicKey);
  for (const k of extra) keys.set(k.kid, publicKeyFromRaw(k.key));
  return keys;
}

function signedBytes(c: Omit<Checkpoint, 'sig'>): Buffer {
  return Buffer.from(canonicalJson({ v: c.v, seq: c.seq, hash: c.hash, time: c.time, kid: c.kid }), 'utf8');
}

export function signCheckpoint(key: SigningKey, body: { seq: number; hash: string; time: string }): Checkpoint {
  const unsigned = { v: 1 as const, seq: body.seq, hash: body.hash, time: body.time, kid: key.kid };
  return { ...unsigned, sig: sign(null, signedBytes(unsigned), key.privateKey).toString('base64url') };
}

export type SignatureCheck = 'valid' | 'bad_signature' | 'unknown_key';

export function checkSignature(c: Checkpoint, keys: TrustedKeys): SignatureCheck {
  const key = keys.get(c.kid);
  if (!key) return 'unknown_key';
  try {
    return verify(null, signedBytes(c), key, Buffer.from(c.sig, 'base64url')) ? 'valid' : 'bad_signature';
  } catch {
    return 'bad_signature';
  }
}
