/**
 * The SQL of the backup engine: what it asks a database about itself (its user schemas and
 * tables, per-table digests, the schema version, the server and snapshot) and the statements it
 * runs on whole databases (the restore's schema wipe, a drill's scratch database). The dump
 * writer (pglite-dump.ts) builds its INSERT lines itself; see the allow-list in eslint.config.js.
 */
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';

/** Runs one statement without parameters and returns its rows. */
export type Query = (sql: string) => Promise<Record<string, unknown>[]>;

/** A Query over a pg client, PGlite or one of its transactions. */
export const queryOf =
  (client: pg.Client | Pick<PGlite, 'query'>): Query =>
  async (sql) =>
    (await (client as pg.Client).query(sql)).rows as Record<string, unknown>[];

/** The condition "this schema is the application's, not PostgreSQL's own", on a schema-name column. */
function userSchema(column: string): string {
  return `${column} not in ('pg_catalog', 'information_schema', 'pg_toast') and ${column} not like 'pg\\_%'`;
}

const USER_SCHEMAS = `
  select nspname as name from pg_namespace
   where ${userSchema('nspname')}
   order by 1`;

const USER_TABLES = `
  select n.nspname as schema, c.relname as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('r', 'p')
     and ${userSchema('n.nspname')}
   order by 1, 2`;

/** Session settings that make a row's text form the same wherever the checksum is computed. */
const STABLE_TEXT = [
  `set local timezone = 'UTC'`,
  `set local datestyle = 'ISO, YMD'`,
  `set local intervalstyle = 'postgres'`,
  `set local extra_float_digits = 1`,
  `set local bytea_output = 'hex'`,
];

/** A quoted SQL identifier. */
export function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Makes every row's text form independent of the session (must run inside a transaction). */
export async function useStableText(query: Query): Promise<void> {
  for (const s of STABLE_TEXT) await query(s);
}

export async function userTables(query: Query): Promise<{ schema: string; name: string }[]> {
  return (await query(USER_TABLES)) as { schema: string; name: string }[];
}

/**
 * A table's row count and the sums, as numeric, of the two halves of each row's md5: an
 * order-independent digest in one streaming aggregate (no sorting, no memory that grows).
 */
export async function tableDigest(
  query: Query,
  table: { schema: string; name: string },
): Promise<{ rows: string; a: string; b: string } | undefined> {
  const rel = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
  const [row] = (await query(
    `select count(*)::text as rows,
            coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint), 0)::text as a,
            coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint), 0)::text as b
       from (select md5(r::text) as h from ${rel} r) s`,
  )) as { rows: string; a: string; b: string }[];
  return row;
}

/** The newest applied migration (0 for a database without the table). */
export async function schemaVersionOf(query: Query): Promise<number> {
  try {
    const [row] = (await query(`select coalesce(max(id), 0)::int as v from schema_migrations`)) as { v: number }[];
    return row?.v ?? 0;
  } catch {
    return 0;
  }
}

/** The database, server version and an exported snapshot (pg_dump --snapshot reads the same rows). */
export async function snapshotInfo(
  query: Query,
): Promise<{ db: string; version: string; snapshot: string } | undefined> {
  const [info] = (await query(
    `select current_database() as db, current_setting('server_version') as version, pg_export_snapshot() as snapshot`,
  )) as { db: string; version: string; snapshot: string }[];
  return info;
}

export async function serverVersion(query: Query): Promise<string | undefined> {
  const [info] = (await query(`select current_setting('server_version') as version`)) as { version: string }[];
  return info?.version;
}

/** Each user schema with its number of tables and estimated rows (what a restore would replace). */
export async function schemaInventory(query: Query): Promise<{ name: string; tables: number; rows: string }[]> {
  return (await query(
    `select n.nspname as name, count(c.oid)::int as tables, coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint::text as rows
       from pg_namespace n left join pg_class c on c.relnamespace = n.oid and c.relkind in ('r', 'p')
      where ${userSchema('n.nspname')}
      group by 1 order by 1`,
  )) as { name: string; tables: number; rows: string }[];
}

/** Drops every user schema, then recreates an empty public (pg_dump expects it to exist). */
export const WIPE = `
DO $wipe$
DECLARE s text;
BEGIN
  FOR s IN ${USER_SCHEMAS} LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
  CREATE SCHEMA public;
END
$wipe$;
`;

/** The plain tables the dump writer streams, with their insertable columns. */
export async function dataTables(
  query: Query,
): Promise<{ schema: string; name: string; columns: string[] | null; identity_always: boolean }[]> {
  return (await query(`
      select n.nspname as schema, c.relname as name,
             array_agg(a.attname order by a.attnum) filter (where a.attnum > 0 and not a.attisdropped and a.attgenerated = '') as columns,
             coalesce(bool_or(a.attidentity = 'a'), false) as identity_always
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        left join pg_attribute a on a.attrelid = c.oid
       where c.relkind = 'r'
         and ${userSchema('n.nspname')}
         and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
       group by n.nspname, c.relname
       order by 1, 2`)) as { schema: string; name: string; columns: string[] | null; identity_always: boolean }[];
}

/** A drill's throwaway database (`name` is generated, never input). */
export async function createScratchDatabase(query: Query, name: string): Promise<void> {
  await query(`create database ${name} template template0`);
}

export async function dropScratchDatabase(query: Query, name: string): Promise<void> {
  await query(`drop database if exists ${name} with (force)`);
}
