/**
 * Site texts: the website's own interface strings, per key and language, read by the public
 * site with per-key fallback along the language's chain, then the default language
 * (`app.languages.fallbackChain`). Admins write one key at a time or import an i18next file per
 * language (merge by default, `mode=replace` to make the language's texts exactly the file).
 *
 * Every write: only enabled languages (share-locked until commit, so a concurrent disable or
 * delete of that language cannot interleave), at most MAX_SITE_TEXT_KEYS keys, no key that is
 * the path prefix of another, audited in its transaction.
 */
import { cursorAfter, keysetPage, type Page } from '../../http/cursor.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import { AUDIT_ACTIONS } from '../../security/audit/actions.js';
import { languageErrors } from '../languages/errors.js';
import { chainOf, requireTag, type Author, type AuditSink, type LanguageService } from '../languages/service.js';
import { canonicalLanguageTag } from '../languages/tags.js';
import { matchLanguage } from '../translations.js';
import { textErrors } from './errors.js';
import { flattenI18next, keyProblem, MAX_SITE_TEXT_KEYS, nestI18next, prefixConflicts } from './i18next.js';
import { SiteTextRepository } from './repository.js';

export interface SiteText {
  key: string;
  translations: Record<string, string>;
  updatedAt: string;
}

export interface PublicTexts {
  lang: string;
  texts: Record<string, string>;
}

export interface ImportResult {
  lang: string;
  mode: 'merge' | 'replace';
  /** Keys in the file with a text (empty strings are left out). */
  keys: number;
  /** Rows inserted or changed (unchanged texts are not rewritten). */
  written: number;
  /** Texts of this language removed because the file does not have them (replace only). */
  removed: number;
}

export type TextsListener = (change: {
  keys: readonly string[] | 'all';
  languages: readonly string[];
}) => void | Promise<void>;

const toJson = (row: { key: string; translations: Record<string, string>; updatedAt: Date }): SiteText => ({
  key: row.key,
  translations: row.translations,
  updatedAt: (row.updatedAt instanceof Date ? row.updatedAt : new Date(row.updatedAt)).toISOString(),
});

function requireKey(key: string, path = 'params/key'): string {
  const problem = keyProblem(key);
  if (problem) throw textErrors.invalidKey(path, problem);
  return key;
}

export class SiteTextService {
  readonly repo: SiteTextRepository;
  private readonly listeners: TextsListener[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditSink,
    private readonly languages: LanguageService,
    private readonly log: { warn: (obj: object, msg: string) => void } = { warn: () => undefined },
  ) {
    this.repo = new SiteTextRepository(db);
  }

  /** Subscribes to committed changes on this node; returns the unsubscribe function. */
  onChange(listener: TextsListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /**
   * The texts for a reader: `lang` (?lang=) or else the first Accept-Language preference that
   * matches an enabled language (exactly, by primary language, or a regional variant, as the
   * portfolio read matches), else the default. Each key in the first language of the chain
   * that has it; keys with no text anywhere on the chain are left out.
   */
  async publicTexts(lang: string | undefined, accepted: readonly string[] = []): Promise<PublicTexts> {
    const rows = await this.languages.repo.list();
    const enabled = rows.filter((l) => l.enabled).map((l) => l.code);
    const fallbackDefault = rows.find((l) => l.isDefault)?.code ?? 'en';
    let language = fallbackDefault;
    for (const wanted of lang ? [lang] : accepted) {
      const match = matchLanguage(canonicalLanguageTag(wanted) ?? wanted, enabled);
      if (match !== undefined) {
        language = match;
        break;
      }
    }
    const chain = chainOf(rows, language);
    const rank = new Map(chain.map((c, i) => [c, i]));
    const best = new Map<string, { rank: number; text: string }>();
    for (const row of await this.repo.inLanguages(chain)) {
      const r = rank.get(row.language) ?? Infinity;
      const current = best.get(row.key);
      if (!current || r < current.rank) best.set(row.key, { rank: r, text: row.text });
    }
    const keys = [...best.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { lang: language, texts: Object.fromEntries(keys.map((k) => [k, best.get(k)!.text])) };
  }

  async list(page: {
    limit?: number | undefined;
    cursor?: string | undefined;
    prefix?: string | undefined;
  }): Promise<Page<SiteText>> {
    const limit = page.limit ?? 100;
    const [after] = cursorAfter(page.cursor, ['string']) ?? [];
    const rows = keysetPage(await this.repo.page({ limit: limit + 1, after, prefix: page.prefix }), limit, (r) => [
      r.key,
    ]);
    return { items: rows.items.map(toJson), nextCursor: rows.nextCursor };
  }

  /** Replaces every text of one key (languages not given lose their text for it). */
  async put(by: Author, keyInput: string, translations: Record<string, string>): Promise<SiteText> {
    const key = requireKey(keyInput);
    const texts: Record<string, string> = {};
    for (const [tag, text] of Object.entries(translations)) {
      const code = requireTag(tag, `body/translations/${tag}`);
      if (Object.hasOwn(texts, code))
        throw languageErrors.invalidTag(`body/translations/${tag}`, `${tag} (given twice)`);
      texts[code] = text;
    }
    const now = this.clock.now();
    const row = await this.db.transaction(async (tx) => {
      await this.requireEnabled(Object.keys(texts), 'body/translations', tx);
      await this.repo.lockWrites(tx);
      const existing = await this.repo.keys(tx);
      if (!existing.includes(key)) await this.checkKeys(existing, [key]);
      await this.repo.replaceKey(key, texts, now, tx);
      await this.record(by, AUDIT_ACTIONS.siteTextUpdated, key, { languages: Object.keys(texts) }, tx);
      return this.repo.get(key, tx);
    });
    if (!row) throw new Error('site text vanished inside its transaction');
    await this.changed([key], Object.keys(texts));
    return toJson(row);
  }

  async delete(by: Author, keyInput: string): Promise<void> {
    const key = requireKey(keyInput);
    await this.db.transaction(async (tx) => {
      await this.repo.lockWrites(tx);
      const removed = await this.repo.deleteKey(key, tx);
      if (removed === 0) throw textErrors.notFound(key);
      await this.record(by, AUDIT_ACTIONS.siteTextDeleted, key, { removed }, tx);
    });
    await this.changed([key], []);
  }

  /** The language's own texts (no fallback) as an i18next object. */
  async export(langInput: string): Promise<{ lang: string; texts: Record<string, unknown> }> {
    const lang = requireTag(langInput, 'querystring/lang');
    if (!(await this.languages.repo.get(lang))) throw languageErrors.notEnabled('querystring/lang', lang);
    const rows = await this.repo.inLanguage(lang);
    return { lang, texts: nestI18next(rows.map((r) => [r.key, r.text] as const)) };
  }

  /**
   * An i18next file for one enabled language. `merge` (default): the file's texts are added or
   * changed, the language's other texts stay. `replace`: afterwards the language has exactly
   * the file's texts (others of that language are removed; other languages are untouched).
   */
  async import(by: Author, langInput: string, body: unknown, mode: 'merge' | 'replace'): Promise<ImportResult> {
    const lang = requireTag(langInput, 'querystring/lang');
    const { entries, problems } = flattenI18next(body);
    if (problems.length > 0) throw textErrors.importInvalid(problems);
    const now = this.clock.now();
    const fileKeys = entries.map(([k]) => k);
    const result = await this.db.transaction(async (tx) => {
      await this.requireEnabled([lang], 'querystring/lang', tx);
      await this.repo.lockWrites(tx);
      const existing = await this.repo.keys(tx);
      await this.checkKeys(existing, fileKeys);
      const removed = mode === 'replace' ? await this.repo.deleteLanguageExcept(lang, fileKeys, tx) : 0;
      const written = await this.repo.upsert(lang, entries, now, tx);
      const out: ImportResult = { lang, mode, keys: entries.length, written, removed };
      await this.record(by, AUDIT_ACTIONS.siteTextsImported, lang, { ...out }, tx, 'site_text_language');
      return out;
    });
    await this.changed('all', [lang]);
    return result;
  }

  /** Every language enabled (and kept so until commit), or 400 LANGUAGE_NOT_ENABLED naming the first that is not. */
  private async requireEnabled(codes: readonly string[], path: string, tx: Queryable): Promise<void> {
    const enabled = new Set(await this.languages.lockEnabled(codes, tx));
    const missing = codes.find((c) => !enabled.has(c));
    if (missing !== undefined)
      throw languageErrors.notEnabled(path === 'body/translations' ? `${path}/${missing}` : path, missing);
  }

  /** The cap and the prefix rule for the keys there will be. */
  private async checkKeys(existing: readonly string[], added: readonly string[]): Promise<void> {
    const all = new Set([...existing, ...added]);
    if (all.size > MAX_SITE_TEXT_KEYS) throw textErrors.limit(MAX_SITE_TEXT_KEYS);
    const fresh = new Set(added);
    const conflicts = prefixConflicts(all).filter(([a, b]) => fresh.has(a) || fresh.has(b));
    if (conflicts.length > 0) throw textErrors.keyConflict(conflicts);
  }

  private async record(
    by: Author,
    action: string,
    id: string,
    metadata: Record<string, unknown>,
    tx: Queryable,
    type = 'site_text',
  ) {
    await this.audit.record(
      { action, actor: by.actorId, outcome: 'success', target: { type, id }, metadata, ...by.context },
      tx,
    );
  }

  private async changed(keys: readonly string[] | 'all', languages: readonly string[]): Promise<void> {
    for (const listener of [...this.listeners]) {
      try {
        await listener({ keys, languages });
      } catch (err) {
        this.log.warn({ err }, 'site text change listener failed');
      }
    }
  }
}
