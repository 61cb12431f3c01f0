/**
 * `npm run cli -- privacy retention [--dry-run] [--json]`: the retention schedule
 * (src/security/privacy/retention, docs/PRIVACY.md). Only the commands are declared here; each
 * action loads its implementation (./privacy-actions.ts) when it runs (see src/cli/index.ts).
 */
import type { Command } from 'commander';

export function registerPrivacyCommands(program: Command): void {
  const privacy = program.command('privacy').description('Privacy: retention of personal data (docs/PRIVACY.md).');
  privacy
    .command('retention')
    .description(
      'Delete the personal data the retention schedule (RETENTION_* settings) says is due; --dry-run lists what would go.',
    )
    .option('--dry-run', 'count what is due per rule and delete nothing', false)
    .option('--json', 'print JSON', false)
    .action(async (opts: { dryRun: boolean; json: boolean }) =>
      (await import('./privacy-actions.js')).privacyRetention(opts),
    );
}
