/**
 * Migration 0011 seeds the languages from the data already there, so every stored portfolio keeps
 * working: each tag in use becomes a language, the site default portfolio's language becomes the
 * default (else the most used), and no existing row changes. On PGlite, and on PostgreSQL when
 * TEST_DATABASE_URL is set.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openTestDb } from '../../../test/helpers/app.js';
import { newId } from '../../platform/ids.js';
import { migrate } from '../../platform/db/migrate.js';
import { migrations } from '../../platform/db/migrations/index.js';
import type { Db } from '../../platform/db/index.js';

let drop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await drop?.();
  drop = undefined;
});

async function before0011(): Promise<Db> {
  const opened = await openTestDb();
  drop = opened.drop;
  await migrate(
    opened.db,
    migrations.filter((m) => m.id < 11),
  );
  return opened.db;
}

async function addPortfolio(
  db: Db,
  owner: string,
  fields: { lang: string; isDefault?: boolean; translations?: object },
) {
  const id = newId();
  await db.query(
    `insert into portfolios (id, owner_id, slug, title, default_language, is_default, translations) values ($1, $2, $3, 'T', $4, $5, $6::jsonb)`,
    [
      id,
      owner,
      `s-${id.slice(-12)}`,
      fields.lang,
      fields.isDefault ?? false,
      JSON.stringify(fields.translations ?? {}),
    ],
  );
  return id;
}

const languages = (db: Db) =>
  db.query<{ code: string; name: string; is_default: boolean; enabled: boolean; fallback: string[] }>(
    `select code, name, is_default, enabled, fallback from languages order by code collate "C"`,
  );

describe('migration 0011 (languages and site texts)', () => {
  it("seeds every tag in use, the default portfolio's language as default, and keeps every row", async () => {
    const db = await before0011();
    const owner = newId();
    await db.query(`insert into users (id, email, name, password_hash) values ($1, 'o@example.test', 'O', 'x')`, [
      owner,
    ]);
    const a = await addPortfolio(db, owner, {
      lang: 'en',
      translations: { 'pt-BR': { title: 'Olá' }, es: { title: 'Hola' } },
    });
    await addPortfolio(db, owner, { lang: 'en' });
    await addPortfolio(db, owner, { lang: 'de', isDefault: true });
    await db.query(`insert into projects (id, portfolio_id, title, translations) values ($1, $2, 'P', $3::jsonb)`, [
      newId(),
      a,
      JSON.stringify({ pt: { title: 'Projeto' }, fr: 'not an object' }),
    ]);
    const snapshot = await db.query(`select * from portfolios order by id`);

    await migrate(
      db,
      migrations.filter((m) => m.id <= 11),
    );

    expect(await languages(db)).toEqual([
      { code: 'de', name: 'German', is_default: true, enabled: true, fallback: [] },
      { code: 'en', name: 'English', is_default: false, enabled: true, fallback: [] },
      { code: 'es', name: 'Spanish', is_default: false, enabled: true, fallback: [] },
      { code: 'pt', name: 'Portuguese', is_default: false, enabled: true, fallback: [] },
      { code: 'pt-BR', name: 'Portuguese (pt-BR)', is_default: false, enabled: true, fallback: ['pt'] },
    ]);
    expect(await db.query(`select * from portfolios order by id`)).toEqual(snapshot);
  });

  it('without a default portfolio, the most used language is the default', async () => {
    const db = await before0011();
    const owner = newId();
    await db.query(`insert into users (id, email, name, password_hash) values ($1, 'o@example.test', 'O', 'x')`, [
      owner,
    ]);
    await addPortfolio(db, owner, { lang: 'es' });
    await addPortfolio(db, owner, { lang: 'es', translations: { en: { title: 'Hi' } } });
    await migrate(
      db,
      migrations.filter((m) => m.id <= 11),
    );
    expect((await languages(db)).filter((l) => l.is_default).map((l) => l.code)).toEqual(['es']);
  });

  it('on an empty database, seeds en as the default', async () => {
    const db = await before0011();
    await migrate(
      db,
      migrations.filter((m) => m.id <= 11),
    );
    expect(await languages(db)).toEqual([
      { code: 'en', name: 'English', is_default: true, enabled: true, fallback: [] },
    ]);
  });
});
