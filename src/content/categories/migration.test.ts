/**
 * Migration 0014 turns skill types into data: every existing skill keeps its `type` and is linked
 * to the `skill-type` category of that code, and no existing row changes. On PGlite, and on
 * PostgreSQL when TEST_DATABASE_URL is set.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openTestDb } from '../../../test/helpers/app.js';
import { migrate } from '../../platform/db/migrate.js';
import { migrations } from '../../platform/db/migrations/index.js';
import type { Db } from '../../platform/db/index.js';
import { newId } from '../../platform/ids.js';

let drop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await drop?.();
  drop = undefined;
});

async function before0014(): Promise<Db> {
  const opened = await openTestDb();
  drop = opened.drop;
  await migrate(
    opened.db,
    migrations.filter((m) => m.id < 14),
  );
  return opened.db;
}

describe('migration 0014 (categories and relations)', () => {
  it('keeps every skill, its type, and links it to the skill-type category of that type', async () => {
    const db = await before0014();
    const owner = newId();
    const portfolio = newId();
    await db.query(`insert into users (id, email, name, password_hash) values ($1, 'o@example.test', 'O', 'x')`, [
      owner,
    ]);
    await db.query(`insert into portfolios (id, owner_id, slug, title) values ($1, $2, 'folio', 'T')`, [
      portfolio,
      owner,
    ]);
    // Every value of the old enum, the column default, and a value written outside the API.
    const types = ['technical', 'language', 'soft', 'tool', 'other', 'legacy-value'];
    for (const [i, type] of types.entries()) {
      await db.query(`insert into skills (id, portfolio_id, name, type, position) values ($1, $2, $3, $4, $5)`, [
        newId(),
        portfolio,
        `S${i}`,
        type,
        i,
      ]);
    }
    await db.query(`insert into skills (id, portfolio_id, name) values ($1, $2, 'Defaulted')`, [newId(), portfolio]);
    await db.query(`insert into sections (id, portfolio_id, kind, title) values ($1, $2, 'about', 'A')`, [
      newId(),
      portfolio,
    ]);
    const skills = await db.query(`select * from skills order by id`);
    const sections = await db.query<Record<string, unknown>>(`select * from sections order by id`);

    await migrate(
      db,
      migrations.filter((m) => m.id <= 14),
    );

    expect(await db.query(`select * from skills order by id`)).toEqual(skills);
    const linked = await db.query<{ id: string; type: string; code: string; type_code: string }>(
      `select s.id, s.type, k.code, k.type_code from skills s
       join skill_categories l on l.skill_id = s.id join categories k on k.id = l.category_id order by s.id`,
    );
    expect(linked).toHaveLength(skills.length);
    for (const row of linked) {
      expect(row.type_code).toBe('skill-type');
      expect(row.code).toBe(row.type);
    }
    // Sections keep their rows, with no project and the default display style.
    const after = await db.query<Record<string, unknown>>(`select * from sections order by id`);
    expect(after).toEqual(sections.map((s) => ({ ...s, project_id: null, display_style: 'text' })));
  });
});
