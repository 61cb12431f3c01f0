/**
 * What the backup commands need from the configuration, resolved once: the folder, the keys
 * (read from their files now, so a missing file is one clear sentence before any work starts),
 * the S3 store and the retention/RPO numbers.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { openS3BlobStore, s3OptionsFrom, type BlobStore, type S3BlobStoreOptions } from '../platform/blob/index.js';
import { readPrivateKeys, readPublicKeys, type DecryptionKeys, type EncryptionKeys } from './crypto.js';
import { backupErrors, messageOf } from './errors.js';

export interface BackupSettings {
  dir: string;
  production: boolean;
  compressionLevel: number;
  retentionDays: number;
  minKeep: number;
  rpoHours: number;
  rtoMinutes: number;
  pgBinDir: string | undefined;
  s3: S3BlobStoreOptions | undefined;
  /** Loaded on first use: commands that need no key (list, prune) never read key files. */
  encryptionKeys(): Promise<EncryptionKeys>;
  decryptionKeys(): Promise<DecryptionKeys>;
}

export const HOW_TO_CONFIGURE =
  'set BACKUP_PASSPHRASE_FILE (a 0600 file holding a passphrase of at least 16 characters) or BACKUP_PASSPHRASE, or BACKUP_PUBLIC_KEY_FILE to encrypt to an OpenPGP public key';

export function backupDir(config: Pick<Config, 'BACKUP_DIR' | 'DATA_DIR'>): string {
  return path.resolve(config.BACKUP_DIR ?? path.join(config.DATA_DIR, 'backups'));
}

export function s3Options(config: Config): S3BlobStoreOptions | undefined {
  return s3OptionsFrom(config, config.BACKUP_S3_PREFIX);
}

export function requireS3(settings: BackupSettings): S3BlobStoreOptions {
  if (!settings.s3)
    throw backupErrors.notConfigured(
      'S3 is not configured: set AWS_S3_BUCKET (and AWS_REGION, or AWS_S3_ENDPOINT for an S3-compatible store)',
    );
  return settings.s3;
}

export async function openS3(settings: BackupSettings): Promise<BlobStore> {
  return openS3BlobStore(requireS3(settings));
}

async function readSecretFile(file: string, name: string): Promise<string> {
  try {
    return await readFile(path.resolve(file), 'utf8');
  } catch (err) {
    throw backupErrors.notConfigured(`Cannot read ${name} (${file}): ${messageOf(err)}`);
  }
}

export function backupSettings(config: Config): BackupSettings {
  if (config.BACKUP_PASSPHRASE && config.BACKUP_PASSPHRASE_FILE) {
    throw backupErrors.notConfigured('Set BACKUP_PASSPHRASE or BACKUP_PASSPHRASE_FILE, not both');
  }
  let passphrase: Promise<string | undefined> | undefined;
  const getPassphrase = () =>
    (passphrase ??= (async () => {
      if (config.BACKUP_PASSPHRASE) return config.BACKUP_PASSPHRASE;
      if (!config.BACKUP_PASSPHRASE_FILE) return undefined;
      // The first line: a trailing newline from `echo` or an editor is not part of the passphrase.
      const value =
        (await readSecretFile(config.BACKUP_PASSPHRASE_FILE, 'BACKUP_PASSPHRASE_FILE')).split(/\r?\n/)[0] ?? '';
      if (value.length < 16)
        throw backupErrors.notConfigured('The passphrase in BACKUP_PASSPHRASE_FILE must be at least 16 characters');
      return value;
    })());
  return {
    dir: backupDir(config),
    production: config.NODE_ENV === 'production',
    compressionLevel: config.BACKUP_COMPRESSION_LEVEL,
    retentionDays: config.BACKUP_RETENTION_DAYS,
    minKeep: config.BACKUP_MIN_KEEP,
    rpoHours: config.BACKUP_RPO_HOURS,
    rtoMinutes: config.BACKUP_RTO_MINUTES,
    pgBinDir: config.BACKUP_PG_BIN_DIR,
    s3: s3Options(config),
    encryptionKeys: async () => {
      const publicKeys = config.BACKUP_PUBLIC_KEY_FILE
        ? await readPublicKeys(await readSecretFile(config.BACKUP_PUBLIC_KEY_FILE, 'BACKUP_PUBLIC_KEY_FILE')).catch(
            (err: unknown) => {
              throw backupErrors.notConfigured(
                `BACKUP_PUBLIC_KEY_FILE does not hold an armored OpenPGP public key: ${messageOf(err)}`,
              );
            },
          )
        : [];
      return { passphrase: await getPassphrase(), publicKeys };
    },
    decryptionKeys: async () => {
      const privateKeys = config.BACKUP_PRIVATE_KEY_FILE
        ? await readPrivateKeys(
            await readSecretFile(config.BACKUP_PRIVATE_KEY_FILE, 'BACKUP_PRIVATE_KEY_FILE'),
            config.BACKUP_PRIVATE_KEY_PASSPHRASE,
          ).catch((err: unknown) => {
            if (err instanceof Error && err.name === 'BackupError') throw err;
            throw backupErrors.notConfigured(
              `Cannot use BACKUP_PRIVATE_KEY_FILE (is BACKUP_PRIVATE_KEY_PASSPHRASE right?): ${messageOf(err)}`,
            );
          })
        : [];
      return { passphrase: await getPassphrase(), privateKeys };
    },
  };
}
