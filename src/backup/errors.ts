/**
 * Backup errors: one plain sentence each, with a stable code. The CLI prints the message and
 * exits non-zero; nothing here ever carries the passphrase or key material.
 */
import { AppError } from '../http/errors.js';

export class BackupError extends AppError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(1, code, 'Backup', message, options);
    this.name = 'BackupError';
  }
}

export const backupErrors = {
  notConfigured: (m: string) => new BackupError('BACKUP_NOT_CONFIGURED', m),
  unencryptedRefused: (m: string) => new BackupError('BACKUP_UNENCRYPTED_REFUSED', m),
  notABackup: (m: string) => new BackupError('BACKUP_NOT_A_BACKUP', m),
  notFound: (m: string) => new BackupError('BACKUP_NOT_FOUND', m),
  metadataMismatch: (m: string) => new BackupError('BACKUP_METADATA_MISMATCH', m),
  truncated: (m: string) => new BackupError('BACKUP_TRUNCATED', m),
  corrupted: (m: string) => new BackupError('BACKUP_CORRUPTED', m),
  wrongKey: (m: string) => new BackupError('BACKUP_WRONG_PASSPHRASE', m),
  incomplete: (m: string) => new BackupError('BACKUP_DUMP_INCOMPLETE', m),
  dumpFailed: (m: string, cause?: unknown) => new BackupError('BACKUP_DUMP_FAILED', m, { cause }),
  restoreFailed: (m: string, cause?: unknown) => new BackupError('BACKUP_RESTORE_FAILED', m, { cause }),
  refused: (m: string) => new BackupError('BACKUP_REFUSED', m),
  drillFailed: (m: string) => new BackupError('BACKUP_DRILL_FAILED', m),
  s3: (m: string, cause?: unknown) => new BackupError('BACKUP_S3_FAILED', m, { cause }),
  storageFull: (m: string, cause?: unknown) => new BackupError('BACKUP_STORAGE_FULL', m, { cause }),
};

export function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim().replace(/\.$/, '');
}
