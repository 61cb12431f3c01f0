/**
 * `npm run cli -- backup ...`: create, list, verify, restore, drill and prune encrypted backups
 * (src/backup/, docs/BACKUP_RECOVERY.md). Only the commands are declared here; each action loads
 * its implementation (./backup-actions.ts) when it runs, so `backup create` pays for nothing
 * else (see src/cli/index.ts).
 */
import type { Command } from 'commander';

export function registerBackupCommands(program: Command): void {
  const backup = program
    .command('backup')
    .description('Encrypted, verified database backups (see docs/BACKUP_RECOVERY.md).');

  backup
    .command('create')
    .description(
      'Dump the whole database, gzip it and encrypt it (OpenPGP AES-256) into BACKUP_DIR, with JSON metadata beside it.',
    )
    .option('--upload-s3', 'also upload the backup and its metadata to AWS_S3_BUCKET', false)
    .option('--unencrypted', 'write an unencrypted .sql.gz (development only; refused with NODE_ENV=production)', false)
    .action(async (opts: { uploadS3: boolean; unencrypted: boolean }) =>
      (await import('./backup-actions.js')).backupCreate(opts),
    );

  backup
    .command('list')
    .description('List local and S3 backups with date, size, status and the last verified restore.')
    .option('--json', 'print JSON', false)
    .action(async (opts: { json: boolean }) => (await import('./backup-actions.js')).backupList(opts));

  backup
    .command('verify')
    .description(
      'Check FILE against its metadata (SHA-256), decrypt and decompress it to the end, and check the dump is complete.',
    )
    .argument('<file>', 'a backup file, a backup name in BACKUP_DIR or S3, or s3://bucket/key')
    .action(async (file: string) => (await import('./backup-actions.js')).backupVerify(file));

  backup
    .command('restore')
    .description('Verify FILE, take a safety backup, then replace the database with it in one transaction.')
    .argument('<file>', 'a backup file, a backup name in BACKUP_DIR or S3, or s3://bucket/key')
    .option('--dry-run', 'do every check and print the plan, change nothing', false)
    .option('--yes', 'do not ask for confirmation', false)
    .option('--target-url <url>', 'restore into this PostgreSQL database instead of DATABASE_URL')
    .action(async (file: string, opts: { dryRun: boolean; yes: boolean; targetUrl?: string }) =>
      (await import('./backup-actions.js')).backupRestore(file, opts),
    );

  backup
    .command('drill')
    .description(
      'Restore the newest backup (or FILE) into a scratch database, compare every table with the backup, record the RTO and mark it verified.',
    )
    .argument('[file]', 'the backup to drill (default: the newest valid one)')
    .action(async (file: string | undefined) => (await import('./backup-actions.js')).backupDrill(file));

  backup
    .command('prune')
    .description(
      'Delete backups older than BACKUP_RETENTION_DAYS, keeping the newest BACKUP_MIN_KEEP and always the newest verified one.',
    )
    .option('--dry-run', 'print what would be deleted', false)
    .action(async (opts: { dryRun: boolean }) => (await import('./backup-actions.js')).backupPrune(opts));
}
