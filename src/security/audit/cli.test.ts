/**
 * `audit verify / export / prune` as an operator runs them: exit 0 and one summary line when the
 * chain is intact; otherwise a non-zero exit and one sentence naming the first bad seq and the
 * kind of damage. The bundle verifies on its own, with no database.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAttacker } from '../../../test/helpers/audit.js';
import { migratedDataDir, runCliInProcess } from '../../../test/helpers/cli.js';
import { loadConfig } from '../../config/index.js';
import { ManualClock } from '../../platform/clock.js';
import { openDb } from '../../platform/db/index.js';
import { migrate } from '../../platform/db/migrate.js';
import { createAuditService } from './service.js';

let dataDir: string;
let env: Record<string, string>;
const cli = (args: string[]) => runCliInProcess(['audit', ...args], { env });

/** Opens the CLI's embedded database in this test (no command may be running meanwhile). */
async function withEmbedded(
  fn: (ctx: {
    db: Awaited<ReturnType<typeof openDb>>;
    audit: Awaited<ReturnType<typeof createAuditService>>;
    clock: ManualClock;
  }) => Promise<void>,
) {
  const db = await openDb({ dataDir: path.join(dataDir, 'pgdata') });
  try {
    await migrate(db);
    const clock = new ManualClock(new Date('2025-01-01T00:00:00Z'));
    const audit = await createAuditService({ db, clock, config: loadConfig(env) }, { createKey: true });
    await fn({ db, audit, clock });
    await audit.stop();
  } finally {
    await db.close();
  }
}

beforeAll(async () => {
  dataDir = await migratedDataDir('pf-audit-cli-');
  env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent', AUDIT_CHECKPOINT_EVERY: '10' };
  await withEmbedded(async ({ audit, clock }) => {
    for (let i = 1; i <= 25; i++) {
      // Old events (2025) that the default 365-day retention will prune.
      clock.advance(60_000);
      await audit.record({
        action: 'auth.login.failed',
        actor: 'anonymous',
        outcome: 'failure',
        ip: '198.51.100.4',
        metadata: { i },
      });
      if (i % 10 === 0) await audit.flush();
    }
    await audit.flush();
    await audit.checkpoint();
  });
}, 120_000);
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('audit CLI', () => {
  it('verify: exit 0 and a one-line summary on an intact chain', async () => {
    const res = await cli(['verify']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /^Audit chain intact: 25 events, seq 1-25, \d+ valid checkpoints, last signed checkpoint at seq 25 .*events\/s\.\n$/,
    );
  }, 90_000);

  it('export, then verify --bundle with no database; a tampered bundle fails with the kind and seq', async () => {
    const bundle = path.join(dataDir, 'export.jsonl');
    const exported = await cli(['export', '--from', '5', '--to', '20', '--out', bundle]);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^Exported 16 events \(seq 5-20\)/);
    // No database: DATABASE_URL pointing nowhere would fail if it were opened.
    const ok = await runCliInProcess(['audit', 'verify', '--bundle', bundle], {
      env: { ...env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
    });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^Audit chain intact: 16 events, seq 5-20.*\(bundle export\.jsonl\)/);

    const lines = (await readFile(bundle, 'utf8')).trimEnd().split('\n');
    const edited = lines.map((l) =>
      l.includes('"seq":9,') && l.includes('"type":"event"') ? l.replace('"actor":"anonymous"', '"actor":"system"') : l,
    );
    const tampered = path.join(dataDir, 'tampered.jsonl');
    await writeFile(tampered, `${edited.join('\n')}\n`);
    const bad = await cli(['verify', '--bundle', tampered]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^Audit chain damaged at seq 9: modified/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);

    const cut = path.join(dataDir, 'cut.jsonl');
    await writeFile(cut, `${lines.slice(0, -3).join('\n')}\n`);
    const truncated = await cli(['verify', '--bundle', cut]);
    expect(truncated.code).not.toBe(0);
    expect(truncated.stderr).toMatch(/^Audit chain damaged at seq 18: truncated/);
  }, 120_000);

  it('fails with one sentence on bad options and missing files', async () => {
    for (const [args, message] of [
      [['verify', '--from', 'abc'], /--from must be a positive integer/],
      [['verify', '--bundle', path.join(dataDir, 'nope.jsonl')], /No such bundle/],
      [['export'], /required option '--out <file>'/],
      [['prune', '--before', 'yesterday'], /--before must be an ISO date/],
    ] as const) {
      const res = await cli([...args]);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(message);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    }
  }, 120_000);

  it('prune exports and deletes the old segment; verify continues from the anchor; a later deletion outside prune is reported', async () => {
    const pruned = await cli(['prune']);
    expect(pruned.stderr).toBe('');
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(
      /^Pruned 25 events \(seq 1-25, older than .*\); bundle .*audit-1-25\.jsonl sha256 [0-9a-f]{64}\.\n$/,
    );
    const after = await cli(['verify']);
    expect(after.code).toBe(0);
    // Only the prune event itself is left, chained onto the signed anchor at seq 25.
    expect(after.stdout).toMatch(/^Audit chain intact: 1 event, seq 26-26/);
    const bundleOk = await cli(['verify', '--bundle', path.join(dataDir, 'audit', 'pruned', 'audit-1-25.jsonl')]);
    expect(bundleOk.code).toBe(0);

    await withEmbedded(async ({ db, audit }) => {
      for (let i = 0; i < 3; i++)
        await audit.record({ action: 'test.after.prune', actor: 'system', outcome: 'success' });
      await audit.flush();
      await asAttacker(db, (q) => q.query(`delete from audit_events where seq <= 27`).then(() => undefined));
    });
    const damaged = await cli(['verify']);
    expect(damaged.code).not.toBe(0);
    expect(damaged.stderr).toMatch(/^Audit chain damaged at seq 26: deleted/);
  }, 180_000);

  it('public-key prints the key id and key', async () => {
    const res = await cli(['public-key']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^kid [0-9a-f]{16}\npublic key [A-Za-z0-9_-]{43}\n$/);
  }, 60_000);
});
