/**
 * The in-process CLI runner (test/helpers/cli.ts) gives a command what a spawned one gets and
 * nothing of the test process: the filtered environment (never the developer's DATABASE_URL or
 * DATA_DIR), the given standard input, its own output; and it leaves the process as it found it:
 * process.env exactly restored, nothing the command opened still open.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDataDir, runCliInProcess } from './helpers/cli.js';

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await migratedDataDir('pf-cli-in-process-');
  env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** The kinds of open handles and requests (sockets, timers, files), counted. */
function openResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

describe('runCliInProcess', () => {
  it("keeps the developer's DATABASE_URL and DATA_DIR out, and restores process.env exactly", async () => {
    const saved = { ...process.env };
    // What a developer's shell may hold: a command that saw these would open the wrong database.
    process.env['DATABASE_URL'] = 'postgres://developer@127.0.0.1:1/dev';
    process.env['DATA_DIR'] = '/nonexistent/developer-data';
    const before = { ...process.env };
    try {
      const res = await runCliInProcess(['users', 'list', '--json'], { env: { ...env, PF_ONLY_DURING_THE_CALL: '1' } });
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toEqual([]);
      expect({ ...process.env }).toEqual(before);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  }, 120_000);

  it('feeds the given input as standard input, and an empty one when none is given', async () => {
    const created = await runCliInProcess(['users', 'create', '--email', 'in@example.test', '--name', 'In'], {
      env,
      input: 'Violet-Harbor-Lantern-42\n',
    });
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^Created user in@example\.test \([0-9a-f-]{36}\)\.\n$/);
    const none = await runCliInProcess(['users', 'create', '--email', 'none@example.test', '--name', 'None'], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('No password on standard input.\n');
  }, 120_000);

  it('a command closes what it opened (database, KV, timers) before it returns', async () => {
    const before = openResources();
    const res = await runCliInProcess(['keys', 'rotate'], { env });
    expect(res.code, res.stderr).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    const after = openResources();
    for (const [kind, count] of Object.entries(after)) expect(count, kind).toBeLessThanOrEqual(before[kind] ?? 0);
  }, 120_000);

  it('runs calls one at a time: concurrent commands on one DATA_DIR all succeed', async () => {
    const results = await Promise.all(
      ['a', 'b', 'c'].map((n) =>
        runCliInProcess(['users', 'create', '--email', `${n}@example.test`, '--name', n], {
          env,
          input: `Violet-Harbor-Lantern-5${n}\n`,
        }),
      ),
    );
    expect(results.map((r) => [r.code, r.stderr])).toEqual([
      [0, ''],
      [0, ''],
      [0, ''],
    ]);
  }, 180_000);
});
