/**
 * OpenPGP encryption of backups, streamed: symmetric AES-256 under a passphrase (iterated and
 * salted S2K) and/or public-key recipients, in the packet format stock `gpg --decrypt` opens
 * (SEIPD v1 with MDC: GnuPG 2.2, the Debian 12 version, does not read the newer AEAD packets).
 *
 * Why no OpenPGP compression: the payload is gzip already; compressing twice only costs time.
 *
 * openpgp (about 15 MB of memory) loads with the first backup, verify or key file read, not at
 * start: the server imports this module for the backup status of /health/ready only.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type * as openpgp from 'openpgp';
import { lazyModule } from '../platform/lazy.js';

type OpenPgp = typeof import('openpgp');
const loadOpenPgp = lazyModule((): Promise<OpenPgp> => import('openpgp'));

export interface EncryptionKeys {
  passphrase?: string | undefined;
  publicKeys: openpgp.PublicKey[];
}

export interface DecryptionKeys {
  passphrase?: string | undefined;
  privateKeys: openpgp.PrivateKey[];
}

export const CIPHER = 'AES-256';

const encryptConfig = ({ enums }: OpenPgp): openpgp.PartialConfig => ({
  preferredSymmetricAlgorithm: enums.symmetric.aes256,
  preferredCompressionAlgorithm: enums.compression.uncompressed,
  aeadProtect: false,
  s2kType: enums.s2k.iterated,
  // 16 777 216 bytes hashed per guess (the order GnuPG calibrates to). openpgp.js hashes the
  // count in one buffer, so the maximum (255: 65 MB) would cost a 65 MB allocation per backup;
  // a long random passphrase (>= 16 characters, enforced) is what really resists guessing.
  s2kIterationCountByte: 224,
  showVersion: false,
  showComment: false,
});

/**
 * Releasing plaintext before the MDC at the very end is checked is what keeps memory bounded;
 * it is safe here because every consumer treats the stream as unusable until it ended without
 * error (verify reports, restore commits only then).
 */
const DECRYPT_CONFIG: openpgp.PartialConfig = {
  allowUnauthenticatedStream: true,
  // Our own payload is gzip; OpenPGP-level compression is not used, but a hostile file could
  // carry a compression bomb: cap what a compressed packet may expand to.
  maxDecompressedMessageSize: 64 * 1024 * 1024,
};

export function hasEncryptionKey(keys: EncryptionKeys): boolean {
  return Boolean(keys.passphrase) || keys.publicKeys.length > 0;
}

/*
 * openpgp's declarations name the DOM's ReadableStream, which this Node-only build (lib ES2023,
 * no DOM) does not have; the calls are typed here by hand, with Node's web streams.
 */
type AnyOptions = Record<string, unknown>;
interface StreamingPgp {
  createMessage(o: AnyOptions): Promise<unknown>;
  readMessage(o: AnyOptions): Promise<unknown>;
  encrypt(o: AnyOptions): Promise<WebReadableStream<Uint8Array>>;
  decrypt(o: AnyOptions): Promise<{ data: WebReadableStream<Uint8Array> }>;
}

export async function encryptStream(input: Readable, keys: EncryptionKeys, filename: string): Promise<Readable> {
  const lib = await loadOpenPgp();
  const pgp = lib as unknown as StreamingPgp;
  const message = await pgp.createMessage({ binary: Readable.toWeb(input), format: 'binary', filename });
  const encrypted = await pgp.encrypt({
    message,
    format: 'binary',
    ...(keys.passphrase ? { passwords: [keys.passphrase] } : {}),
    ...(keys.publicKeys.length > 0 ? { encryptionKeys: keys.publicKeys } : {}),
    config: encryptConfig(lib),
  });
  return Readable.fromWeb(encrypted);
}

/** Throws when no key opens the message; stream errors later mean corruption or a wrong key. */
export async function decryptStream(input: Readable, keys: DecryptionKeys): Promise<Readable> {
  const pgp = (await loadOpenPgp()) as unknown as StreamingPgp;
  const message = await pgp.readMessage({ binaryMessage: Readable.toWeb(input), config: DECRYPT_CONFIG });
  const { data } = await pgp.decrypt({
    message,
    format: 'binary',
    ...(keys.passphrase ? { passwords: [keys.passphrase] } : {}),
    ...(keys.privateKeys.length > 0 ? { decryptionKeys: keys.privateKeys } : {}),
    config: DECRYPT_CONFIG,
  });
  return Readable.fromWeb(data);
}

export async function readPublicKeys(armored: string): Promise<openpgp.PublicKey[]> {
  const keys = await (await loadOpenPgp()).readKeys({ armoredKeys: armored });
  return keys.map((k) => k.toPublic());
}

export async function readPrivateKeys(armored: string, passphrase: string | undefined): Promise<openpgp.PrivateKey[]> {
  const openpgp = await loadOpenPgp();
  const keys = await openpgp.readPrivateKeys({ armoredKeys: armored });
  return Promise.all(
    keys.map(async (k) => (k.isDecrypted() ? k : openpgp.decryptKey({ privateKey: k, passphrase: passphrase ?? '' }))),
  );
}

export function fingerprints(keys: readonly openpgp.PublicKey[]): string[] {
  return keys.map((k) => k.getFingerprint().toUpperCase());
}
