/** Backups (src/backup/, docs/BACKUP_RECOVERY.md). */

import { int, keyPrefix, minLength, nonEmpty, str, type SchemaSection } from '../parsers.js';

export const backupSchema = {
  BACKUP_DIR: {
    group: 'Backups',
    doc: 'Folder for encrypted backups and their .json metadata. Unset: DATA_DIR/backups.',
    example: '/var/backups/portfolio',
    parse: nonEmpty,
  },
  BACKUP_PASSPHRASE: {
    group: 'Backups',
    doc: 'Passphrase for OpenPGP AES-256 backup encryption (at least 16 characters). Prefer BACKUP_PASSPHRASE_FILE; `backup create` refuses to run with neither nor BACKUP_PUBLIC_KEY_FILE.',
    example: 'a-long-random-passphrase-kept-offline-too',
    parse: minLength(16, ' (it is all that protects the backups)'),
    secret: true,
  },
  BACKUP_PASSPHRASE_FILE: {
    group: 'Backups',
    doc: 'File holding the backup passphrase (first line), e.g. a 0600 file or a systemd credential. Do not set both this and BACKUP_PASSPHRASE.',
    example: '/etc/portfolio/backup-passphrase',
    parse: nonEmpty,
  },
  BACKUP_PUBLIC_KEY_FILE: {
    group: 'Backups',
    doc: 'Armored OpenPGP public key(s) to encrypt backups to as well (or instead of a passphrase), so the backup host cannot read old backups.',
    example: '/etc/portfolio/backup-recipients.asc',
    parse: nonEmpty,
  },
  BACKUP_PRIVATE_KEY_FILE: {
    group: 'Backups',
    doc: 'Armored OpenPGP private key used by verify, restore and drill for backups encrypted to a public key.',
    example: '/root/backup-key.asc',
    parse: nonEmpty,
  },
  BACKUP_PRIVATE_KEY_PASSPHRASE: {
    group: 'Backups',
    doc: 'Passphrase that unlocks BACKUP_PRIVATE_KEY_FILE, if the key is protected.',
    example: 'key-passphrase',
    parse: str,
    secret: true,
  },
  BACKUP_COMPRESSION_LEVEL: {
    group: 'Backups',
    doc: 'gzip level of backups, 1 (fast) to 9 (small); 9 saves about 0.2 % over 6 for twice the CPU.',
    default: '6',
    parse: int(1, 9),
  },
  BACKUP_RETENTION_DAYS: {
    group: 'Backups',
    doc: '`backup prune` deletes backups older than this many days (never the newest verified one, never fewer than BACKUP_MIN_KEEP).',
    default: '30',
    parse: int(1, 36_500),
  },
  BACKUP_MIN_KEEP: {
    group: 'Backups',
    doc: 'The newest this many backups are kept whatever their age.',
    default: '7',
    parse: int(1, 10_000),
  },
  BACKUP_RPO_HOURS: {
    group: 'Backups',
    doc: 'Recovery point objective: /health/ready reports the backup check as stale when the newest verified (drilled) backup is older.',
    default: '24',
    parse: int(1, 24 * 365),
  },
  BACKUP_RTO_MINUTES: {
    group: 'Backups',
    doc: 'Recovery time objective: `backup drill` warns when the measured restore takes longer.',
    default: '120',
    parse: int(1, 7 * 24 * 60),
  },
  BACKUP_PG_BIN_DIR: {
    group: 'Backups',
    doc: 'Folder holding pg_dump and psql (e.g. /usr/lib/postgresql/15/bin). Unset: found on PATH. pg_dump must be at least the server version.',
    example: '/usr/lib/postgresql/15/bin',
    parse: nonEmpty,
  },
  BACKUP_S3_PREFIX: {
    group: 'Backups',
    doc: 'Key prefix of backups in AWS_S3_BUCKET.',
    default: 'backups/',
    parse: keyPrefix('backups/', { allowEmpty: true }),
  },
} satisfies SchemaSection;
