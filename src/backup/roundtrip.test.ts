/**
 * The promise of a backup: restoring it gives back exactly the data of the moment it was taken.
 * Create -> change and delete data -> restore -> every row of every table is identical to the
 * moment of the backup (row-by-row md5 of each row's text form), on PGlite and on PostgreSQL.
 * A drill then restores it into a scratch database and marks it verified.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../test/helpers/services.js';
import { listLocal, newestVerified } from './catalog.js';
import { createBackup } from './create.js';
import { drillFile } from './drill.js';
import { readMetadataFile } from './metadata.js';
import { restoreBackup } from './restore.js';
import {
  backupEnv,
  fingerprint,
  fixture,
  seed,
  type Env,
  type Fixture,
  type Kind,
} from '../../test/support/backup/helpers.js';
import { verifyFile } from './verify.js';

const KINDS: Kind[] = TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

describe.each(KINDS)('round trip on %s', (kind) => {
  let f: Fixture;
  let env: Env;
  beforeAll(async () => {
    f = await fixture(kind, TEST_DATABASE_URL);
    env = await backupEnv();
    await seed(f, 20);
  });
  afterAll(async () => {
    await f?.close();
    await env?.close();
  });

  it('restores exactly the data of the moment of the backup', async () => {
    const before = await fingerprint(f);
    expect(before['public.bk_values']).toHaveLength(20);
    const created = await createBackup(f.target, env.ctx);
    expect(created.metadata.engine).toBe(kind);
    expect(created.metadata.schemaVersion).toBeGreaterThanOrEqual(1);
    expect(created.metadata.tables.find((t) => t.name === 'bk_values')?.rows).toBe(20);
    expect(created.metadata.encryption).toMatchObject({ format: 'openpgp', cipher: 'AES-256', passphrase: true });
    expect(JSON.stringify(await readMetadataFile(created.metadataFile))).not.toContain('passphrase long enough');

    // Change, delete and add data, and even the schema, after the backup.
    await f.sql(`update bk_values set label = 'changed' where id <= 5`);
    await f.sql(`delete from bk_values where id > 15`);
    await f.sql(`delete from users`);
    await f.sql(`create table after_backup (x int)`);
    await seed(f, 3);
    expect(await fingerprint(f)).not.toEqual(before);

    env.clock.advance(60_000);
    const r = await restoreBackup(created.file, f.target, env.ctx);
    expect('safety' in r).toBe(true);
    expect(await fingerprint(f)).toEqual(before);
    // Identity sequences continue after the restored rows.
    const [row] = await f.sql(`insert into bk_values (label) values ('next') returning id`);
    expect(row?.['id']).toBe(21);
    expect(env.events.map((e) => e.action)).toEqual([
      'backup.create.completed',
      'backup.create.completed',
      'backup.restore.completed',
    ]);
  });

  it('the safety backup holds the state just before the restore', async () => {
    const entries = await listLocal(env.ctx.settings.dir);
    const safety = entries.find((e) => e.metadata?.reason === 'pre-restore');
    expect(safety?.valid).toBe(true);
    expect(safety?.metadata?.tables.find((t) => t.name === 'after_backup')).toBeDefined();
    await expect(verifyFile(safety!.local!.file, await env.ctx.settings.decryptionKeys())).resolves.toMatchObject({
      dumpBytes: expect.any(Number),
    });
  });

  it('a drill restores into a scratch database, matches every table and marks the backup verified', async () => {
    const entries = await listLocal(env.ctx.settings.dir);
    expect(newestVerified(entries)).toBeUndefined();
    const first = entries.find((e) => e.metadata?.reason === 'manual')!;
    const r = await drillFile(first.local!.file, env.ctx, f.url);
    expect(r.mismatches).toEqual([]);
    expect(r.record).toMatchObject({ ok: true, tables: first.metadata!.tables.length });
    expect(r.record.rtoMs).toBeGreaterThan(0);
    const after = await listLocal(env.ctx.settings.dir);
    expect(newestVerified(after)?.name).toBe(first.name);
    expect(env.events.at(-1)?.action).toBe('backup.drill.completed');
  }, 60_000);
});
