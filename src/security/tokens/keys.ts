/**
 * The JWT key ring: asymmetric signing keys with a `kid`, public keys for JWKS, rotation.
 *
 * Keys live in the `signing_keys` table, their private halves encrypted with AES-256-GCM under a
 * key derived from JWT_SECRET (so a database dump alone cannot mint tokens), or come from a PEM
 * file (JWT_PRIVATE_KEY_FILE) handed over by a secrets manager. Rotation adds a new key and keeps
 * the old ones for verification until every token they signed has expired.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import { KeyRepository } from './repository.js';

export type SigningAlgorithm = 'EdDSA' | 'ES256';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['EdDSA', 'ES256'];

export interface RingKey {
  kid: string;
  alg: SigningAlgorithm;
  publicKey: KeyObject;
  publicJwk: JWK;
  /** Absent for keys of other nodes' rings we could not decrypt, never for the signer. */
  privateKey: KeyObject | null;
  createdAt: Date;
  retiredAt: Date | null;
  expiresAt: Date | null;
  source: 'database' | 'file';
}

export interface KeyRingOptions {
  algorithm: SigningAlgorithm;
  /** JWT_SECRET: the key-encryption secret. */
  secret: string;
  privateKeyFile?: string | undefined;
  /** Longest token lifetime plus clock tolerance, in seconds: how long a retired key still verifies. */
  verifyWindowSeconds: number;
  /** Tells the other nodes to reread the ring after a rotation (a KV message). */
  announce?: () => Promise<void>;
}

export class KeyRingError extends Error {
  override readonly name = 'KeyRingError';
}

const ENCRYPTION_VERSION = 'v1';

/** AES-256-GCM key for the stored private keys, derived so JWT_SECRET is never used directly. */
function kekOf(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'portfolio-jwt-keys', 'kek v1', 32));
}

export function encryptPrivateKey(secret: string, kid: string, key: KeyObject): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kekOf(secret), iv);
  // The kid is authenticated too: a row's ciphertext cannot be moved under another kid.
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const der = key.export({ format: 'der', type: 'pkcs8' });
  const body = Buffer.concat([cipher.update(der), cipher.final()]);
  return [
    ENCRYPTION_VERSION,
    iv.toString('base64url'),
    body.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
  ].join('.');
}

export function decryptPrivateKey(secret: string, kid: string, stored: string): KeyObject {
  const [version, iv, body, tag] = stored.split('.');
  if (version !== ENCRYPTION_VERSION || !iv || !body || !tag)
    throw new KeyRingError(`key ${kid} is stored in an unknown format`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', kekOf(secret), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const der = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    throw new KeyRingError(
      `signing key ${kid} cannot be decrypted: JWT_SECRET differs from the one it was stored with`,
    );
  }
}

export function algorithmOf(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new KeyRingError('the signing key must be Ed25519 or ECDSA P-256');
}

export function generateSigningKey(alg: SigningAlgorithm): KeyObject {
  const pair = alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return pair.privateKey;
}

async function publicJwkOf(privateKey: KeyObject): Promise<{ jwk: JWK; kid: string }> {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  // RFC 7638 thumbprint: stable, derived from the key itself, carries no secret.
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { jwk, kid };
}

export class KeyRing {
  private keys = new Map<string, RingKey>();
  private fileKey: RingKey | null = null;
  /** When an unknown kid last caused a reload (boot and announced reloads do not count). */
  private lastMissReload = 0;
  private reloading: Promise<void> | null = null;
  private readonly repo: KeyRepository;
  /** Unknown kids trigger a reload (another node rotated), at most this often. */
  static readonly RELOAD_INTERVAL_MS = 2_000;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly options: KeyRingOptions,
  ) {
    this.repo = new KeyRepository(db);
  }

  /** Loads the ring; creates the first key when the database has none. */
  async init(): Promise<void> {
    if (this.options.privateKeyFile) this.fileKey = await this.loadFileKey(this.options.privateKeyFile);
    await this.reload();
    if (!this.fileKey && !this.activeDatabaseKey()) {
      await this.db.transaction(async (tx) => {
        // Two nodes booting at once must not both add a "first" key.
        await this.repo.lock(tx);
        if ((await this.repo.countActive(tx)) === 0) await this.insertKey(tx, this.options.algorithm);
      });
      await this.reload();
    }
  }

  private async loadFileKey(file: string): Promise<RingKey> {
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch (err) {
      throw new KeyRingError(
        `JWT_PRIVATE_KEY_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(pem);
    } catch {
      throw new KeyRingError(`JWT_PRIVATE_KEY_FILE ${file} is not a PEM private key`);
    }
    const alg = algorithmOf(privateKey);
    const { jwk, kid } = await publicJwkOf(privateKey);
    return {
      kid,
      alg,
      publicKey: createPublicKey(privateKey),
      publicJwk: jwk,
      privateKey,
      createdAt: this.clock.now(),
      retiredAt: null,
      expiresAt: null,
      source: 'file',
    };
  }

  /** Rereads the database keys that still verify. */
  async reload(): Promise<void> {
    const rows = await this.repo.live(this.clock.now());
    const next = new Map<string, RingKey>();
    for (const row of rows) {
      if (!SIGNING_ALGORITHMS.includes(row.alg as SigningAlgorithm)) continue;
      const existing = this.keys.get(row.kid);
      const publicKey = existing?.publicKey ?? createPublicKey({ key: row.public_jwk, format: 'jwk' });
      next.set(row.kid, {
        kid: row.kid,
        alg: row.alg as SigningAlgorithm,
        publicKey,
        publicJwk: row.public_jwk,
        privateKey:
          existing?.privateKey ??
          (this.fileKey ? null : decryptPrivateKey(this.options.secret, row.kid, row.private_key)),
        createdAt: new Date(row.created_at),
        retiredAt: row.retired_at ? new Date(row.retired_at) : null,
        expiresAt: row.expires_at ? new Date(row.expires_at) : null,
        source: 'database',
      });
    }
    this.keys = next;
  }

  private activeDatabaseKey(): RingKey | undefined {
    let newest: RingKey | undefined;
    for (const key of this.keys.values()) {
      if (key.retiredAt === null && key.privateKey && (!newest || key.createdAt > newest.createdAt)) newest = key;
    }
    return newest;
  }

  /** The key new tokens are signed with. */
  signer(): RingKey {
    const key = this.fileKey ?? this.activeDatabaseKey();
    if (!key?.privateKey) throw new KeyRingError('no active signing key');
    return key;
  }

  /** A key that may still sign, by kid (re-signing a stored successor); null when gone. */
  signerByKid(kid: string): RingKey | null {
    if (this.fileKey?.kid === kid) return this.fileKey;
    const key = this.keys.get(kid);
    return key?.privateKey && (!key.expiresAt || key.expiresAt > this.clock.now()) ? key : null;
  }

  /**
   * The verification key for a kid. An unknown kid may be a key another node just added, so
   * the ring is reread, but at most every RELOAD_INTERVAL_MS: a flood of random kids costs one
   * query per interval, not one per request.
   */
  async verifier(kid: string): Promise<RingKey | null> {
    const known = this.lookup(kid);
    if (known) return known;
    if (Date.now() - this.lastMissReload < KeyRing.RELOAD_INTERVAL_MS) return null;
    this.lastMissReload = Date.now();
    this.reloading ??= this.reload().finally(() => {
      this.reloading = null;
    });
    await this.reloading;
    return this.lookup(kid);
  }

  private lookup(kid: string): RingKey | null {
    if (this.fileKey?.kid === kid) return this.fileKey;
    const key = this.keys.get(kid);
    if (!key) return null;
    if (key.expiresAt && key.expiresAt <= this.clock.now()) return null;
    return key;
  }

  /** Every public key that still verifies, for /.well-known/jwks.json. */
  jwks(): { keys: JWK[] } {
    const keys: RingKey[] = [];
    if (this.fileKey) keys.push(this.fileKey);
    for (const key of this.keys.values()) {
      if (!key.expiresAt || key.expiresAt > this.clock.now()) keys.push(key);
    }
    return { keys: keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })) };
  }

  list(): RingKey[] {
    return [...(this.fileKey ? [this.fileKey] : []), ...this.keys.values()];
  }

  /**
   * Adds a new signing key and retires the previous ones: they stop signing now and stop
   * verifying once every token they signed has expired. Keys past that point are deleted.
   */
  async rotate(
    algorithm: SigningAlgorithm = this.options.algorithm,
  ): Promise<{ kid: string; retired: string[]; deleted: number }> {
    if (this.fileKey) {
      throw new KeyRingError(
        'the signing key comes from JWT_PRIVATE_KEY_FILE: rotate it by replacing that file and restarting',
      );
    }
    const now = this.clock.now();
    const verifyUntil = new Date(now.getTime() + this.options.verifyWindowSeconds * 1000);
    const result = await this.db.transaction(async (tx) => {
      await this.repo.lock(tx);
      const retired = await this.repo.retireActive(now, verifyUntil, tx);
      const deleted = await this.repo.deleteExpired(now, tx);
      const kid = await this.insertKey(tx, algorithm);
      return { kid, retired, deleted };
    });
    await this.reload();
    await this.options.announce?.();
    return result;
  }

  private async insertKey(tx: Queryable, algorithm: SigningAlgorithm): Promise<string> {
    const privateKey = generateSigningKey(algorithm);
    const { jwk, kid } = await publicJwkOf(privateKey);
    await this.repo.insert(
      {
        kid,
        alg: algorithm,
        publicJwk: jwk,
        privateKey: encryptPrivateKey(this.options.secret, kid, privateKey),
        createdAt: this.clock.now(),
      },
      tx,
    );
    return kid;
  }
}
