/**
 * Migration 0010 (roles managed from the admin) on a database of today's schema: every existing
 * account keeps exactly the permissions it had, every role and assignment row is kept, and
 * nothing is language-limited. On PGlite always, and on PostgreSQL when TEST_DATABASE_URL is set.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openTestDb } from '../../test/helpers/app.js';
import { DB_KINDS } from '../../test/helpers/audit.js';
import type { Db } from '../platform/db/index.js';
import { migrate } from '../platform/db/migrate.js';
import { migrations } from '../platform/db/migrations/index.js';
import { newId } from '../platform/ids.js';
import { actorPermissions } from './policy.js';
import { UsersRepository } from './repository.js';

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
    const { db, drop } = await openTestDb(kind, 2);
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
