/**
 * Migration 0010 (roles managed from the admin) on a database of today's schema: every existing
 * account keeps exactly the permissions it had, every role and assignment row is kept, and
 * nothing is language-limited. On PGlite always, and on PostgreSQL when TEST_DATABASE_URL is set.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DB_KINDS, type DbKind } from '../../test/helpers/audit.js';
import { TEST_DATABASE_URL } from '../../test/helpers/services.js';
import { openDb, type Db } from '../platform/db/index.js';
import { migrate } from '../platform/db/migrate.js';
import { migrations } from '../platform/db/migrations/index.js';
import { newId } from '../platform/ids.js';
import { actorPermissions } from './policy.js';
import { UsersRepository } from './repository.js';

async function open(kind: DbKind): Promise<{ db: Db; drop: () => Promise<void> }> {
  if (kind === 'pglite') {
    const db = await openDb({ dataDir: 'memory://' });
    return { db, drop: () => db.close() };
  }
  const schema = `m_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const db = await openDb({ url: TEST_DATABASE_URL, dataDir: 'unused', schema, poolSize: 2 });
  return {
    db,
    drop: async () => {
      await db.close();
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

/** What each account could do before 0010, computed the way authentication did then. */
async function permissionsBefore(db: Db): Promise<Map<string, string[]>> {
  const rows = await db.query<{ id: string; permissions: string[] }>(
    `select u.id, coalesce((select array_agg(distinct rp.permission order by rp.permission) from user_roles ur
       join role_permissions rp on rp.role = ur.role where ur.user_id = u.id), '{}') as permissions
     from users u`,
  );
  return new Map(rows.map((r) => [r.id, r.permissions]));
}

describe.each(DB_KINDS)('migration 0010 on %s', (kind) => {
  it('keeps every account’s permissions, roles and assignments', async () => {
    const { db, drop } = await open(kind);
    try {
      await migrate(
        db,
        migrations.filter((m) => m.id < 10),
      );
      const users = new UsersRepository(db);
      const accounts: { roles: string[]; disabled?: boolean }[] = [
        { roles: ['admin'] },
        { roles: ['editor'] },
        { roles: ['user'] },
        { roles: ['user', 'editor'] },
        { roles: ['admin', 'user'], disabled: true },
        { roles: [] },
      ];
      for (const [i, a] of accounts.entries()) {
        const id = newId();
        await users.create({
          id,
          email: `m${i}-${randomBytes(3).toString('hex')}@example.test`,
          name: `M${i}`,
          passwordHash: 'x',
          role: 'user',
        });
        await users.setRoles(id, a.roles);
        if (a.disabled) await users.update(id, { disabled: true });
      }
      const before = await permissionsBefore(db);
      const rolesBefore = await db.query(`select * from role_permissions order by role, permission`);
      const assignmentsBefore = await db.query(`select * from user_roles order by user_id, role`);

      expect(await migrate(db)).toContain(10);

      expect(await db.query(`select * from role_permissions order by role, permission`)).toEqual(rolesBefore);
      expect(await db.query(`select * from user_roles order by user_id, role`)).toEqual(assignmentsBefore);
      expect(await db.query(`select name from roles where languages is not null`)).toEqual([]);
      expect(before.size).toBe(accounts.length);
      for (const [id, permissions] of before) {
        const state = await users.getAuth(id);
        if (!state) throw new Error('account lost');
        const after = actorPermissions(state);
        expect([...after.permissions].sort(), id).toEqual(permissions);
        expect(after.languagePermissions.size).toBe(0);
      }
      // New rows obey the slug rule.
      await expect(db.query(`insert into roles (name, description) values ('Not A Slug', 'x')`)).rejects.toThrow();
    } finally {
      await drop();
    }
  });
});
