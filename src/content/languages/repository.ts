/**
 * The only SQL of site languages. Table and column names come from this file or from the content
 * definitions (checked against an identifier pattern), never from a request; every value is a
 * $n parameter. Each method takes an optional transaction.
 */
import type { Queryable } from '../../platform/db/index.js';

export interface LanguageRow {
  code: string;
  name: string;
  nativeName: string;
  enabled: boolean;
  isDefault: boolean;
  fallback: string[];
  createdAt: Date;
  updatedAt: Date;
}

const SELECT = `code, name, native_name as "nativeName", enabled, is_default as "isDefault", fallback,
  created_at as "createdAt", updated_at as "updatedAt"`;

const COLUMNS = {
  name: 'name',
  nativeName: 'native_name',
  enabled: 'enabled',
  isDefault: 'is_default',
  fallback: 'fallback',
} as const;
export type LanguageWrite = { [K in keyof typeof COLUMNS]?: LanguageRow[K] | undefined };

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const ident = (name: string) => {
  if (!IDENTIFIER.test(name)) throw new Error(`bad identifier ${name}`);
  return `"${name}"`;
};

/** A table whose rows carry a `translations` jsonb value, and its translatable text columns. */
export interface TranslatedTable {
  table: string;
  /** API field name → column. */
  fields: Readonly<Record<string, string>>;
  /** The column that names a row for people (title, name, url). */
  label: string;
}

export class LanguageRepository {
  constructor(private readonly db: Queryable) {}

  /** Every language, the default first, then by code. */
  async list(tx: Queryable = this.db): Promise<LanguageRow[]> {
    return tx.query<LanguageRow>(`select ${SELECT} from languages order by is_default desc, code collate "C"`);
  }

  async get(
    code: string,
    tx: Queryable = this.db,
    options: { forUpdate?: boolean } = {},
  ): Promise<LanguageRow | undefined> {
    const rows = await tx.query<LanguageRow>(
      `select ${SELECT} from languages where lower(code) = lower($1)${options.forUpdate ? ' for update' : ''}`,
      [code],
    );
    return rows[0];
  }

  /**
   * The enabled languages among `codes`, share-locked until the transaction ends: a write that
   * checked them cannot race a disable or delete of the same language.
   */
  async lockEnabled(codes: readonly string[], tx: Queryable): Promise<string[]> {
    const rows = await tx.query<{ code: string }>(
      `select code from languages where code = any($1::text[]) and enabled order by code for share`,
      [codes],
    );
    return rows.map((r) => r.code);
  }

  async count(tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(`select count(*)::int as n from languages`);
    return rows[0]?.n ?? 0;
  }

  async insert(
    row: Omit<LanguageRow, 'createdAt' | 'updatedAt'> & { now: Date },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into languages (code, name, native_name, enabled, is_default, fallback, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6::text[], $7, $7)`,
      [row.code, row.name, row.nativeName, row.enabled, row.isDefault, row.fallback, row.now],
    );
  }

  async update(code: string, patch: LanguageWrite, now: Date, tx: Queryable = this.db): Promise<void> {
    const values: unknown[] = [code, now];
    const sets = ['updated_at = $2'];
    for (const [name, column] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, string][]) {
      const value = patch[name];
      if (value === undefined) continue;
      values.push(value);
      sets.push(`${column} = $${values.length}${name === 'fallback' ? '::text[]' : ''}`);
    }
    await tx.query(`update languages set ${sets.join(', ')} where code = $1`, values);
  }

  /** Serialises default switches (when there is no default row yet, there is no row to lock). */
  async lockDefault(tx: Queryable): Promise<void> {
    await tx.query(`select pg_advisory_xact_lock(hashtext('content.default_language'))`);
  }

  async clearDefault(exceptCode: string, now: Date, tx: Queryable): Promise<void> {
    await tx.query(`update languages set is_default = false, updated_at = $2 where is_default and code <> $1`, [
      exceptCode,
      now,
    ]);
  }

  async delete(code: string, tx: Queryable): Promise<void> {
    await tx.query(`delete from languages where code = $1`, [code]);
  }

  /** The enabled languages whose own fallback names `code`. */
  async fallingBackTo(code: string, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ code: string }>(
      `select code from languages where $1 = any(fallback) and enabled order by code collate "C"`,
      [code],
    );
    return rows.map((r) => r.code);
  }

  /**
   * What uses a language: portfolios written in it, rows with a translation in it per table, site
   * texts, fallbacks, and media (src/security/uploads) tagged with it or holding a translation in it.
   */
  async usage(
    code: string,
    tables: readonly TranslatedTable[],
    tx: Queryable,
  ): Promise<{
    portfolioDefaults: number;
    translations: Record<string, number>;
    siteTexts: number;
    fallbacks: number;
    media: number;
  }> {
    const counts = tables.map(
      (t) => `(select count(*) from ${ident(t.table)} where translations ? $1)::int as ${ident(t.table)}`,
    );
    const rows = await tx.query<Record<string, number>>(
      `select (select count(*) from portfolios where default_language = $1)::int as "_defaults",
        (select count(*) from site_texts where language = $1)::int as "_texts",
        (select count(*) from languages where $1 = any(fallback))::int as "_fallbacks",
        (select count(*) from media where language = $1 or translations ? $1)::int as "_media"
        ${counts.map((c) => `, ${c}`).join('')}`,
      [code],
    );
    const row = rows[0] ?? {};
    return {
      portfolioDefaults: row['_defaults'] ?? 0,
      siteTexts: row['_texts'] ?? 0,
      fallbacks: row['_fallbacks'] ?? 0,
      media: row['_media'] ?? 0,
      translations: Object.fromEntries(tables.map((t) => [t.table, row[t.table] ?? 0])),
    };
  }

  /** Removes the language's entry from every translations value of the table; the count of rows changed. */
  async removeTranslations(code: string, table: string, now: Date, tx: Queryable): Promise<number> {
    const rows = await tx.query(
      `update ${ident(table)} set translations = translations - $1, updated_at = $2 where translations ? $1 returning id`,
      [code, now],
    );
    return rows.length;
  }

  /**
   * Media (src/security/uploads; `media.language` has no foreign key) lose the language: the
   * tag becomes null (shown to every read) and its `translations` entry goes. A default resume
   * tagged with it stops being the default where the portfolio already has a language-neutral
   * one (one default resume per portfolio and language). The count of media rows changed.
   */
  async removeFromMedia(code: string, now: Date, tx: Queryable): Promise<number> {
    await tx.query(
      `update media m set is_default_resume = false, updated_at = $2
       where m.language = $1 and m.is_default_resume and exists (
         select 1 from media n where n.portfolio_id = m.portfolio_id and n.language is null and n.is_default_resume)`,
      [code, now],
    );
    const rows = await tx.query(
      `update media set language = case when language = $1 then null else language end,
         translations = translations - $1, updated_at = $2
       where language = $1 or translations ? $1 returning id`,
      [code, now],
    );
    return rows.length;
  }

  async removeFromFallbacks(code: string, now: Date, tx: Queryable): Promise<void> {
    await tx.query(
      `update languages set fallback = array_remove(fallback, $1), updated_at = $2 where $1 = any(fallback)`,
      [code, now],
    );
  }

  // ---- missing-translation report ------------------------------------------------------------

  /** A keyset page of portfolios (by id) with their translatable texts. */
  async portfolioPage(
    fields: Readonly<Record<string, string>>,
    page: { limit: number; after?: string | undefined },
    tx: Queryable = this.db,
  ): Promise<TextRow[]> {
    return tx.query<TextRow>(
      `select id, slug, default_language as "defaultLanguage", translations, ${textColumns(fields)}
       from portfolios where ($1::uuid is null or id > $1::uuid) order by id limit $2`,
      [page.after ?? null, page.limit],
    );
  }

  /** The rows of one child table belonging to the given portfolios, in their order. */
  async childTexts(
    table: TranslatedTable,
    portfolioIds: readonly string[],
    tx: Queryable = this.db,
  ): Promise<TextRow[]> {
    return tx.query<TextRow>(
      `select id, portfolio_id as "portfolioId", translations, ${ident(table.label)} as "_label", ${textColumns(table.fields)}
       from ${ident(table.table)} where portfolio_id = any($1::uuid[]) order by portfolio_id, position, id`,
      [portfolioIds],
    );
  }

  /**
   * The available images of these portfolios with their alt text (the missing-translation report;
   * the media themselves belong to src/security/uploads). `alt` is the default language's text.
   */
  async imageAltTexts(portfolioIds: readonly string[], tx: Queryable = this.db): Promise<TextRow[]> {
    return tx.query<TextRow>(
      `select id, portfolio_id as "portfolioId", translations, original_name as "_label", alt, language
       from media where portfolio_id = any($1::uuid[]) and kind = 'image' and status = 'available'
       order by portfolio_id, id`,
      [portfolioIds],
    );
  }
}

export type TextRow = Record<string, unknown> & { id: string; translations: unknown };

const textColumns = (fields: Readonly<Record<string, string>>) =>
  Object.entries(fields)
    .map(([name, column]) => `${ident(column)} as "${name.replace(/[^A-Za-z0-9]/g, '')}"`)
    .join(', ');
