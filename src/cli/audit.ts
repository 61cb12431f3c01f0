/**
 * `npm run cli -- audit ...`: verify, export and prune the tamper-evident audit log
 * (src/security/audit/). Only the commands are declared here; each action loads its
 * implementation (./audit-actions.ts) when it runs (see src/cli/index.ts).
 */
import type { Command } from 'commander';

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('Verify, export and prune the tamper-evident audit log.');

  audit
    .command('verify')
    .description(
      'Check the hash chain and every checkpoint signature (exit 0 when intact; otherwise the first bad seq and the kind of damage).',
    )
    .option('--from <seq>', 'start at this seq (trusting the stored hash of the event before it)')
    .option('--bundle <file>', 'verify an exported bundle instead of the database (no database needed)')
    .option(
      '--public-key <key>',
      'also trust this Ed25519 public key (base64url, as printed by `audit public-key`); repeatable',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(async (opts: { from?: string; bundle?: string; publicKey: string[] }) =>
      (await import('./audit-actions.js')).auditVerify(opts),
    );

  audit
    .command('export')
    .description(
      'Write a JSONL bundle of a seq range with its signed checkpoints; `audit verify --bundle` checks it with no database.',
    )
    .requiredOption('--out <file>', 'where to write the bundle')
    .option('--from <seq>', 'first seq (default: the oldest retained)')
    .option('--to <seq>', 'last seq (default: the newest)')
    .action(async (opts: { out: string; from?: string; to?: string }) =>
      (await import('./audit-actions.js')).auditExport(opts),
    );

  audit
    .command('prune')
    .description(
      'Apply AUDIT_RETENTION_DAYS: export the old segment (bundle plus signed checkpoint), record the prune, then delete it in batches.',
    )
    .option('--before <date>', 'prune events older than this ISO date instead of the retention period')
    .option('--out <file>', 'where to write the bundle (default: DATA_DIR/audit/pruned/audit-FROM-TO.jsonl)')
    .action(async (opts: { before?: string; out?: string }) => (await import('./audit-actions.js')).auditPrune(opts));

  audit
    .command('public-key')
    .description('Print the checkpoint signing key id and public key (give it to whoever verifies bundles offline).')
    .action(async () => (await import('./audit-actions.js')).auditPublicKey());
}
