/** The only SQL of site texts: one row per (key, language). Each method takes an optional transaction. */
import type { Queryable } from '../../platform/db/index.js';

export interface SiteTextRow {
  key: string;
  translations: Record<string, string>;
  updatedAt: Date;
}

export class SiteTextRepository {
  constructor(private readonly db: Queryable) {}

  /** Serialises writers: the key cap and the prefix rule look at every key. */
  async lockWrites(tx: Queryable): Promise<void> {
    await tx.query(`select pg_advisory_xact_lock(hashtext('content.site_texts'))`);
  }

  /** A keyset page of keys (byte order) with their texts in every language. */
  async page(
    page: { limit: number; after?: string | undefined; prefix?: string | undefined },
    tx: Queryable = this.db,
  ): Promise<SiteTextRow[]> {
    return tx.query<SiteTextRow>(
      `select key, jsonb_object_agg(language, text order by language) as translations, max(updated_at) as "updatedAt"
       from site_texts
       where ($1::text is null or key collate "C" > $1::text collate "C")
         and ($3::text is null or left(key, length($3::text)) = $3::text)
       group by key order by key collate "C" limit $2`,
      [page.after ?? null, page.limit, page.prefix ?? null],
    );
  }

  async get(key: string, tx: Queryable = this.db): Promise<SiteTextRow | undefined> {
    const rows = await tx.query<SiteTextRow>(
      `select key, jsonb_object_agg(language, text order by language) as translations, max(updated_at) as "updatedAt"
       from site_texts where key = $1 group by key`,
      [key],
    );
    return rows[0];
  }

  async keys(tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ key: string }>(`select distinct key from site_texts`);
    return rows.map((r) => r.key);
  }

  /** The texts in the given languages (for a public read along a fallback chain). */
  async inLanguages(
    languages: readonly string[],
    tx: Queryable = this.db,
  ): Promise<{ key: string; language: string; text: string }[]> {
    return tx.query(`select key, language, text from site_texts where language = any($1::text[])`, [languages]);
  }

  async inLanguage(language: string, tx: Queryable = this.db): Promise<{ key: string; text: string }[]> {
    return tx.query(`select key, text from site_texts where language = $1 order by key collate "C"`, [language]);
  }

  /** Replaces every text of a key. */
  async replaceKey(key: string, texts: Readonly<Record<string, string>>, now: Date, tx: Queryable): Promise<void> {
    await tx.query(`delete from site_texts where key = $1`, [key]);
    const languages = Object.keys(texts);
    await tx.query(
      `insert into site_texts (key, language, text, updated_at)
       select $1, t.language, t.text, $4 from unnest($2::text[], $3::text[]) as t (language, text)`,
      [key, languages, languages.map((l) => texts[l]), now],
    );
  }

  async deleteKey(key: string, tx: Queryable): Promise<number> {
    const rows = await tx.query(`delete from site_texts where key = $1 returning language`, [key]);
    return rows.length;
  }

  /** Inserts or changes the texts of one language; returns how many rows were written. */
  async upsert(
    language: string,
    entries: readonly (readonly [string, string])[],
    now: Date,
    tx: Queryable,
  ): Promise<number> {
    if (entries.length === 0) return 0;
    const rows = await tx.query(
      `insert into site_texts (key, language, text, updated_at)
       select t.key, $1, t.text, $4 from unnest($2::text[], $3::text[]) as t (key, text)
       on conflict (key, language) do update set text = excluded.text, updated_at = excluded.updated_at
         where site_texts.text is distinct from excluded.text
       returning key`,
      [language, entries.map(([k]) => k), entries.map(([, t]) => t), now],
    );
    return rows.length;
  }

  /** Deletes the language's texts whose key is not in `keep`; returns how many. */
  async deleteLanguageExcept(language: string, keep: readonly string[], tx: Queryable): Promise<number> {
    const rows = await tx.query(
      `delete from site_texts where language = $1 and not (key = any($2::text[])) returning key`,
      [language, keep],
    );
    return rows.length;
  }
}
