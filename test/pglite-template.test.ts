/**
 * The migrated PGlite template (test/helpers/pglite-template.ts): test apps start from a copy of
 * one database the run migrated once, instead of creating and migrating their own; the tests of
 * the migrations still get an empty database.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { currentVersion, migrate } from '../src/platform/db/migrate.js';
import { migrations } from '../src/platform/db/migrations/index.js';
import { openTestDb } from './helpers/app.js';
import { pgliteTemplatePath } from './helpers/pglite-template.js';

const latest = Math.max(...migrations.map((m) => m.id));

type Opened = Awaited<ReturnType<typeof openTestDb>>;
let a: Opened;
let b: Opened;
let empty: Opened;
// Opened before the tests (hook timeout): two copies of the template and one empty database.
beforeAll(async () => {
  a = await openTestDb('pglite', 1, { migrated: true });
  b = await openTestDb('pglite', 1, { migrated: true });
  empty = await openTestDb('pglite');
  // Three PGlite instances, one of them created from nothing (initdb): a busy machine may need minutes.
}, 300_000);
afterAll(async () => {
  await Promise.all([a, b, empty].filter(Boolean).map((o) => o.drop()));
});

describe('the migrated PGlite template', () => {
  it('the run made one (global setup) and named it after the migrations', async () => {
    const file = inject('pgliteTemplate');
    expect(file).toBe(await pgliteTemplatePath());
    expect(existsSync(file!)).toBe(true);
  });

  it('a migrated test database is a copy that needs no migration: every one is applied already', async () => {
    expect(await currentVersion(a.db)).toBe(latest);
    // The same work as an already-migrated server start: nothing left to apply.
    expect(await migrate(a.db)).toEqual([]);
  });

  it('copies are private: what one test database writes, another does not see', async () => {
    await a.db.exec('create table only_in_a (id int)');
    expect(await a.db.query(`select to_regclass('only_in_a') as t`)).toEqual([{ t: 'only_in_a' }]);
    expect(await b.db.query(`select to_regclass('only_in_a') as t`)).toEqual([{ t: null }]);
    expect(await currentVersion(b.db)).toBe(latest);
  });

  it('the tests of the migrations still start from an empty database', async () => {
    expect(await empty.db.query(`select to_regclass('schema_migrations') as t`)).toEqual([{ t: null }]);
    expect(await migrate(empty.db)).toEqual(migrations.map((m) => m.id).sort((x, y) => x - y));
  });

  it('a changed migration makes a different template', async () => {
    const changed = migrations.map((m, i) => (i === migrations.length - 1 ? { ...m, sql: `${m.sql}\n-- changed` } : m));
    expect(await pgliteTemplatePath(changed)).not.toBe(await pgliteTemplatePath());
  });
});
