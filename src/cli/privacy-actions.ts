/**
 * The `privacy` commands' work: the same RetentionService as the servers' hourly job (same rules,
 * cutoffs and audit event, actor `system`). Loaded only when one of them runs.
 */
import path from 'node:path';
import { systemClock } from '../platform/clock.js';
import { RetentionService, type RetentionLine } from '../security/privacy/retention/service.js';
import { withAuditedPlatform } from './platform.js';

function table(lines: readonly RetentionLine[], dryRun: boolean): string {
  const head = dryRun ? 'due' : 'deleted';
  const rows = lines.map((l) => [l.rule, l.table, `${l.days} d (${l.setting})`, String(l.rows)]);
  const all = [['rule', 'table', 'kept', head], ...rows];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all
    .map((r) => r.map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

export async function privacyRetention(opts: { dryRun: boolean; json: boolean }): Promise<void> {
  await withAuditedPlatform(async ({ config, deps, audit }) => {
    const service = new RetentionService({
      db: deps.db,
      clock: systemClock,
      config,
      audit,
      outboxDir: config.SMTP_URL ? null : path.resolve(config.DATA_DIR, 'outbox'),
    });
    const result = opts.dryRun ? await service.plan() : await service.run();
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    if (!result.leader) {
      process.stdout.write('Another node is running the retention pass now; nothing was deleted.\n');
      return;
    }
    const total = result.lines.reduce((a, l) => a + l.rows, 0);
    process.stdout.write(`${table(result.lines, result.dryRun)}\n`);
    process.stdout.write(
      result.dryRun
        ? `Dry run: ${total} row${total === 1 ? '' : 's'} (and files) would be deleted; nothing was changed.\n`
        : `Deleted ${total} row${total === 1 ? '' : 's'} (and files).\n`,
    );
  });
}
