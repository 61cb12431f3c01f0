/**
 * Prepared reads (`query(sql, params, { prepared: true })`): the hot owner reads keep their plan
 * instead of being parsed and planned on every request. Attacked as a caller would: the answer is
 * exactly the unprepared one, the plan is really reused (the same work is not redone), and no
 * parameter that is not a plain uuid, integer, boolean or null ever becomes SQL text. On PGlite,
 * and on PostgreSQL with TEST_DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type DbKind } from '../../../test/helpers/app.js';
import { TEST_DATABASE_URL } from '../../../test/helpers/services.js';
import { newId } from '../ids.js';
import { pgErrorCode, safeLiteral, statementName, type Db } from './index.js';

const kinds: DbKind[] = TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

/** A statement of the shape the owner reads have: a row by id, typed columns, a json subquery. */
const READ = `select p.id, p.n, p.doc, p.at, p.flag,
  coalesce((select json_agg(c.label order by c.position) from prepared_probe_child c where c.parent_id = p.id), '[]'::json) as labels
  from prepared_probe p where p.id = $1 and ($2::int is null or p.n >= $2::int)`;

const HOSTILE: unknown[] = [
  "x'); drop table prepared_probe; --",
  "00000000-0000-0000-0000-000000000000'; drop table prepared_probe; --",
  "00000000-0000-0000-0000-000000000000'",
  '00000000-0000-0000-0000-000000000000\n',
  ' 00000000-0000-0000-0000-000000000000',
  '00000000-0000-0000-0000-00000000000g ',
  'pt-BR;',
  'a\\',
  "slug'",
  'x'.repeat(129),
  '-leading-dash',
  '$$); drop table prepared_probe; --',
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 60,
  10n,
  new Date(),
  ['00000000-0000-0000-0000-000000000000'],
  { toString: () => '1); drop table prepared_probe; --' },
];

describe.each(kinds)('prepared reads on %s', (kind) => {
  let db: Db;
  let drop: () => Promise<void>;
  const ids = [newId(), newId()];
  beforeAll(async () => {
    // One connection, so pg_prepared_statements is the session that ran the reads.
    ({ db, drop } = await openTestDb(kind, 1));
    await db.exec(`create table prepared_probe (id uuid primary key, n int not null, doc jsonb not null,
      at timestamptz not null, flag boolean not null);
      create table prepared_probe_child (parent_id uuid not null references prepared_probe (id), label text not null,
      position int not null)`);
    for (const [i, id] of ids.entries()) {
      await db.query(`insert into prepared_probe values ($1, $2, $3::jsonb, now(), $4)`, [
        id,
        i * 10,
        JSON.stringify({ title: `T${i}`, nested: { es: 'hola' } }),
        i === 0,
      ]);
      await db.query(`insert into prepared_probe_child values ($1, 'b', 2), ($1, 'a', 1)`, [id]);
    }
  });
  afterAll(async () => drop());

  it('answers exactly what the unprepared statement answers, with the same types', async () => {
    const cases: unknown[][] = [
      [ids[0], null],
      [ids[1], 5],
      [ids[1], 50],
      [newId(), null],
    ];
    for (const params of cases) {
      const plain = await db.query(READ, params);
      const prepared = await db.query(READ, params, { prepared: true });
      expect(prepared).toEqual(plain);
    }
    const [row] = await db.query<Record<string, unknown>>(READ, [ids[0], null], { prepared: true });
    expect(row?.['at']).toBeInstanceOf(Date);
    expect(row).toMatchObject({ n: 0, flag: true, doc: { nested: { es: 'hola' } }, labels: ['a', 'b'] });
  });

  it('is planned once and then reuses its plan: the same work is not redone per call', async () => {
    const sql = `select id, n from prepared_probe where id = $1`;
    for (let i = 0; i < 20; i++) await db.query(sql, [ids[i % 2]], { prepared: true });
    const rows = await db.query<{ generic: number; custom: number }>(
      `select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where name = $1`,
      [statementName(sql)],
    );
    // PostgreSQL plans the first five executions for their values, then keeps one generic plan.
    expect(rows).toHaveLength(1);
    expect(rows[0]!.custom).toBeLessThanOrEqual(5);
    expect(rows[0]!.generic).toBeGreaterThanOrEqual(15);
  });

  it('never writes a parameter into SQL unless it can only be a uuid, a word, an integer, a boolean or null', async () => {
    for (const value of HOSTILE) expect(safeLiteral(value), String(value)).toBeUndefined();
    expect(safeLiteral(ids[0])).toBe(`'${ids[0]}'`);
    // Words (slugs, language tags, codes): nothing in them can leave the quotes.
    expect(safeLiteral('pt-BR')).toBe(`'pt-BR'`);
    expect(safeLiteral('my_portfolio-2')).toBe(`'my_portfolio-2'`);
    // A word where a uuid is expected is inlined and refused the same way as when bound.
    expect(safeLiteral('00000000-0000-0000-0000-00000000000g')).toBe(`'00000000-0000-0000-0000-00000000000g'`);
    expect(safeLiteral(-7)).toBe('-7');
    expect(safeLiteral(null)).toBe('null');
    expect(safeLiteral(false)).toBe('false');
    // Through the query itself: each hostile value gets exactly the unprepared answer (a row,
    // none, or the same refusal), and nothing was dropped.
    const outcome = async (run: () => Promise<unknown>) =>
      run().then(
        (rows) => ({ rows }),
        (err: unknown) => ({ code: pgErrorCode(err) ?? 'thrown' }),
      );
    for (const value of [...HOSTILE, '00000000-0000-0000-0000-00000000000g', 'pt-BR', '5']) {
      for (const params of [
        [value, null],
        [ids[0], value],
      ]) {
        const plain = await outcome(() => db.query(READ, params));
        const prepared = await outcome(() => db.query(READ, params, { prepared: true }));
        expect(prepared, String(value)).toEqual(plain);
      }
    }
    expect(await db.query(`select count(*)::int as n from prepared_probe`)).toEqual([{ n: 2 }]);
  });

  it('inside a transaction runs as usual, and sees the transaction’s own writes', async () => {
    const id = newId();
    await db.transaction(async (tx) => {
      await tx.query(`insert into prepared_probe values ($1, 1, '{}'::jsonb, now(), false)`, [id]);
      expect(await tx.query(READ, [id, null], { prepared: true })).toHaveLength(1);
      await tx.query(`delete from prepared_probe where id = $1`, [id]);
    });
    expect(await db.query(READ, [id, null], { prepared: true })).toEqual([]);
  });

  it('a statement whose result changed shape under it is answered unprepared, not an error', async () => {
    const sql = `select * from prepared_probe_child where parent_id = $1 order by position`;
    expect(await db.query(sql, [ids[0]], { prepared: true })).toHaveLength(2);
    await db.exec(`alter table prepared_probe_child add column extra int not null default 7`);
    const rows = await db.query<{ extra: number }>(sql, [ids[0]], { prepared: true });
    expect(rows.map((r) => r.extra)).toEqual([7, 7]);
  });
});
