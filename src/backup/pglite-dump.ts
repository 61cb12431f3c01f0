/**
 * A streaming dump of an embedded PGlite database, in the shape pg_dump writes.
 *
 * pglite-tools' pg_dump (WASM) does not stream: it builds the whole dump in its in-memory file
 * system and returns one File, so memory grows to many times the dump (measured: ~16x at 37 MB,
 * see docs/BACKUP_RECOVERY.md). It is used here only for the schema, which is small: the
 * pre-data section (schemas, types, functions, tables, sequences) and the post-data section
 * (indexes, constraints, foreign keys, triggers). The rows in between are produced by the
 * database itself through a cursor, one INSERT statement per row as `pg_dump --inserts` writes
 * them (literals from quote_nullable, so every type round-trips through its text form), a batch
 * of rows at a time, followed by each sequence's setval. Memory is one batch, whatever the size.
 *
 * The CLI owns the embedded database while it runs (PGlite is one process, one session), so the
 * three parts see the same data.
 */
import type { PGlite } from '@electric-sql/pglite';
import { Readable } from 'node:stream';
import { backupErrors, messageOf } from './errors.js';
import { dataTables as catalogTables, queryOf, quoteIdent } from './repository.js';

const BATCH_ROWS = 500;

type Q = Pick<PGlite, 'query' | 'exec'>;

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Runs pglite-tools' pg_dump with extra arguments and returns the script. */
export async function pgDumpText(pglite: PGlite, args: string[]): Promise<string> {
  const { pgDump } = await import('@electric-sql/pglite-tools/pg_dump');
  const [sp] = (await pglite.query<{ search_path: string }>('show search_path')).rows;
  try {
    const file = await pgDump({ pg: pglite, args: ['--no-owner', ...args] });
    return await file.text();
  } catch (err) {
    throw backupErrors.dumpFailed(`The embedded database dump failed: ${messageOf(err)}`, err);
  } finally {
    // pg_dump opens a read-only repeatable-read transaction and, on PGlite's one session, never
    // ends it: close it, or every later write in this process fails as read-only.
    await pglite.exec('ROLLBACK').catch(() => undefined);
    // pg_dump also empties search_path for the session, outside its transaction.
    if (sp) await pglite.exec(`SET search_path TO ${sp.search_path}`).catch(() => undefined);
  }
}

const FOOTER = /\n--\n-- PostgreSQL database dump complete\n--\s*$/;

interface TableInfo {
  schema: string;
  name: string;
  columns: string[];
  identityAlways: boolean;
}

async function dataTables(q: Q): Promise<TableInfo[]> {
  const rows = await catalogTables(queryOf(q));
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    columns: r.columns ?? [],
    identityAlways: r.identity_always,
  }));
}

/** SQL whose rows are the INSERT statements for one table. */
function insertsQuery(t: TableInfo): string {
  const rel = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
  if (t.columns.length === 0) return `select ${literal(`INSERT INTO ${rel} DEFAULT VALUES;`)} as s from only ${rel}`;
  const head = `INSERT INTO ${rel} (${t.columns.map(quoteIdent).join(', ')}) ${t.identityAlways ? 'OVERRIDING SYSTEM VALUE ' : ''}VALUES (`;
  const values = t.columns.map((c) => `quote_nullable(r.${quoteIdent(c)})`).join(` || ', ' || `);
  return `select ${literal(head)} || ${values} || ');' as s from only ${rel} r`;
}

async function* generate(pglite: PGlite, pre: string, post: string): AsyncGenerator<Buffer> {
  yield Buffer.from(pre.replace(FOOTER, '\n'));
  let open = false;
  try {
    // One read-only snapshot for every table; text forms that any session reads back the same.
    await pglite.exec(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
      SET LOCAL timezone = 'UTC'; SET LOCAL datestyle = 'ISO, YMD'; SET LOCAL intervalstyle = 'postgres';
      SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'`);
    open = true;
    for (const t of await dataTables(pglite)) {
      yield Buffer.from(`\n--\n-- Data for Name: ${t.name}; Type: TABLE DATA; Schema: ${t.schema}\n--\n\n`);
      await pglite.exec(`DECLARE portfolio_dump NO SCROLL CURSOR FOR ${insertsQuery(t)}`);
      for (;;) {
        const rows = (await pglite.query<{ s: string }>(`FETCH ${BATCH_ROWS} FROM portfolio_dump`)).rows;
        if (rows.length === 0) break;
        yield Buffer.from(`${rows.map((r) => r.s).join('\n')}\n`);
        if (rows.length < BATCH_ROWS) break;
      }
      await pglite.exec('CLOSE portfolio_dump');
    }
    const seqs = (
      await pglite.query<{ s: string }>(`
        select format('SELECT pg_catalog.setval(%L, %s, %s);', quote_ident(schemaname) || '.' || quote_ident(sequencename),
                      coalesce(last_value, start_value), case when last_value is null then 'false' else 'true' end) as s
          from pg_sequences
         where schemaname not in ('pg_catalog', 'information_schema') and schemaname not like 'pg\\_%'
         order by schemaname, sequencename`)
    ).rows;
    if (seqs.length > 0) yield Buffer.from(`\n--\n-- Sequence values\n--\n\n${seqs.map((r) => r.s).join('\n')}\n`);
  } finally {
    if (open) await pglite.exec('ROLLBACK').catch(() => undefined);
  }
  yield Buffer.from(post);
}

/** Schema first (two small pg_dump runs), then a stream that brings the rows. */
export async function pgliteDumpStream(pglite: PGlite): Promise<Readable> {
  const pre = await pgDumpText(pglite, ['--section=pre-data']);
  const post = await pgDumpText(pglite, ['--section=post-data']);
  return Readable.from(generate(pglite, pre, post), { objectMode: false });
}
