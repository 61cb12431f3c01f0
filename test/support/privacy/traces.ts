/**
 * Where personal data still is: every table and every column that can hold text (text, varchar,
 * json, jsonb, arrays, inet) of the current schema, read from information_schema, searched for
 * each needle (case-insensitive, in the column's text form). Used by the erasure tests; not
 * imported by the app.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface SqlRunner {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

const TEXTUAL = ['text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'inet', 'USER-DEFINED'];

/** `table.column` where any needle appears, for each needle (sorted). */
export async function findTraces(db: SqlRunner, needles: Record<string, string>): Promise<Record<string, string[]>> {
  const columns = await db.query<{ t: string; c: string }>(
    `select table_name as t, column_name as c from information_schema.columns
      where table_schema = current_schema() and data_type = any($1::text[])
        and table_name in (select table_name from information_schema.tables
                            where table_schema = current_schema() and table_type = 'BASE TABLE')
      order by 1, 2`,
    [TEXTUAL],
  );
  if (columns.length < 50) throw new Error(`only ${columns.length} textual columns found: wrong schema?`);
  const out: Record<string, string[]> = {};
  for (const [label, needle] of Object.entries(needles)) {
    const hits: string[] = [];
    for (const { t, c } of columns) {
      const rows = await db.query<{ n: number }>(
        `select count(*)::int as n from "${t}" where strpos(lower("${c}"::text), lower($1)) > 0`,
        [needle],
      );
      if ((rows[0]?.n ?? 0) > 0) hits.push(`${t}.${c}`);
    }
    out[label] = hits.sort();
  }
  return out;
}

/** Files under `dir` (recursively) whose bytes hold a needle (quoted-printable soft breaks undone). */
export async function filesHolding(dir: string, needles: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        const raw = await readFile(p);
        const text = raw
          .toString('latin1')
          .replace(/=\r?\n/g, '')
          .toLowerCase();
        if (needles.some((n) => text.includes(n.toLowerCase()))) out.push(p);
      }
    }
  };
  await walk(dir);
  return out.sort();
}
