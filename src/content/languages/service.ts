/**
 * Site languages: the table that drives the language switcher, the site default (the fallback of
 * every read) and each language's fallback chain (`pt-BR` → `pt` → default).
 *
 * What other modules use (the content read and write paths, the site texts, the CLI):
 * `enabledLanguages()`, `defaultLanguage()`, `fallbackChain(code)`, `lockEnabled(codes, tx)` and
 * `onChange(listener)`, called after every committed change (on this node, and on every other
 * node through the KV channel) so caches of anything language-dependent can be dropped.
 *
 * Rules: exactly one default, always enabled (a partial unique index, switches serialised by an
 * advisory lock and made in one transaction); fallbacks name other enabled languages and never
 * loop; a language content uses is deleted only with force, which removes its translations from
 * every portfolio, every child row, the media (their tag and their translations) and the site
 * texts in the same transaction; a language a portfolio is written in (`defaultLanguage`) or a
 * role is limited to (a translator) is never deleted nor disabled.
 */
import { cursorAfter, keysetPage } from '../../http/cursor.js';
import type { Clock } from '../../platform/clock.js';
import { afterCommit, pgErrorCode, UNIQUE_VIOLATION, type Db, type Queryable } from '../../platform/db/index.js';
import { AUDIT_ACTIONS } from '../../security/audit/actions.js';
import { RolesRepository } from '../../users/repository.js';
import type { AuditEventInput, RequestContext } from '../../security/audit/event.js';
import { CHILD_RESOURCES, PORTFOLIO_TRANSLATABLE } from '../schema.js';
import { asTranslations } from '../translations.js';
import { languageErrors } from './errors.js';
import { LanguageRepository, type LanguageRow, type TextRow, type TranslatedTable } from './repository.js';
import {
  MAX_LANGUAGES,
  type Language,
  type LanguageCreate,
  type LanguagePatch,
  type MissingReport,
  type PublicLanguage,
} from './schema.js';
import { canonicalLanguageTag, displayNames } from './tags.js';

/** Other nodes hear about language changes here (KV pub/sub), so their `onChange` listeners run too. */
export const LANGUAGES_CHANNEL = 'content:languages';

/** Who made a change: a user id (or `system` for the CLI) and the request it came with. */
export interface Author {
  actorId: string;
  context: RequestContext;
}

export interface AuditSink {
  record(event: AuditEventInput, tx?: Queryable): Promise<void>;
}

/** What changed; listeners usually just drop their caches. */
export interface LanguageChange {
  kind: 'created' | 'updated' | 'deleted';
  code: string;
  /** A forced delete also changed content (translations removed) and site texts. */
  contentChanged: boolean;
}
export type LanguageListener = (change: LanguageChange) => void | Promise<void>;

/** The tables whose rows carry translations: portfolios and every child kind. */
export const TRANSLATED_TABLES: readonly TranslatedTable[] = [
  {
    table: 'portfolios',
    fields: Object.fromEntries(PORTFOLIO_TRANSLATABLE.map((f) => [f, f])),
    label: 'title',
  },
  ...CHILD_RESOURCES.map((r) => {
    const fields = Object.fromEntries(r.translatable.map((f) => [f, r.fields[f]!.column]));
    const [first] = r.translatable;
    const label = first === undefined ? 'id' : r.fields[first]!.column;
    return { table: r.table, fields, label };
  }),
];

const iso = (d: Date) => (d instanceof Date ? d : new Date(d)).toISOString();

export function toLanguageJson(row: LanguageRow): Language {
  return {
    code: row.code,
    name: row.name,
    nativeName: row.nativeName,
    enabled: row.enabled,
    isDefault: row.isDefault,
    fallback: [...row.fallback],
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/** The canonical code of a request value, or a 400 naming where it was. */
export function requireTag(value: string, path: string): string {
  const tag = canonicalLanguageTag(value);
  if (tag === undefined) throw languageErrors.invalidTag(path, value);
  return tag;
}

function mapUniqueViolation(err: unknown, code: string): unknown {
  if (pgErrorCode(err) !== UNIQUE_VIOLATION) return err;
  const constraint = (err as { constraint?: unknown }).constraint;
  if (constraint === 'languages_one_default') return languageErrors.defaultConflict();
  return languageErrors.exists(code);
}

/** What a language's disable and delete ask of the role table (src/users): roles limited to it. */
export interface LanguageRoles {
  limitedTo(code: string, tx: Queryable): Promise<string[]>;
}

export class LanguageService {
  readonly repo: LanguageRepository;
  /** Roles limited to languages (translators); the role table by default, so the CLI checks it too. */
  roles: LanguageRoles;
  private readonly listeners: LanguageListener[] = [];
  /** Set by the plugin: tells the other nodes (KV channel) after a local change. */
  announce: (change: LanguageChange) => Promise<void> = async () => undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditSink,
    readonly translatedTables: readonly TranslatedTable[] = TRANSLATED_TABLES,
    private readonly log: { warn: (obj: object, msg: string) => void } = { warn: () => undefined },
  ) {
    this.repo = new LanguageRepository(db);
    this.roles = new RolesRepository(db);
  }

  /**
   * The check of a role's `languages` (src/users/roles.ts, `setLanguageCheck`): each a language
   * tag (400 INVALID_LANGUAGE_TAG) of an enabled site language (400 LANGUAGE_NOT_ENABLED at
   * `body/languages/<i>`), share-locked until `tx` ends so a disable or delete cannot slip in
   * between. Returns the canonical codes, in the order given.
   */
  async requireEnabled(codes: readonly string[], tx: Queryable, path = 'body/languages'): Promise<string[]> {
    const canonical = codes.map((c, i) => requireTag(c, `${path}/${i}`));
    const enabled = new Set(await this.repo.lockEnabled(canonical, tx));
    canonical.forEach((c, i) => {
      if (!enabled.has(c)) throw languageErrors.notEnabled(`${path}/${i}`, c);
    });
    return canonical;
  }

  // ---- what other modules call ----------------------------------------------------------------

  /** Subscribes to committed changes (any node); returns the unsubscribe function. */
  private readonly contentHooks: ((tx: Queryable) => Promise<void>)[] = [];

  /**
   * Called inside the transaction of a change that rewrites content (a forced delete removing
   * translations), so what is derived from that content (the public read's versions) moves with it.
   */
  onContentChanging(hook: (tx: Queryable) => Promise<void>): void {
    this.contentHooks.push(hook);
  }

  onChange(listener: LanguageListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /** Calls every listener; a failing listener is logged and does not stop the others. */
  async notify(change: LanguageChange): Promise<void> {
    for (const listener of [...this.listeners]) {
      try {
        await listener(change);
      } catch (err) {
        this.log.warn({ err }, 'language change listener failed');
      }
    }
  }

  /** Every language, the default first. */
  async list(tx?: Queryable): Promise<Language[]> {
    return (await this.repo.list(tx)).map(toLanguageJson);
  }

  /** The enabled languages, the default first (what the public language switcher shows). */
  async enabledLanguages(tx?: Queryable): Promise<PublicLanguage[]> {
    return (await this.repo.list(tx))
      .filter((l) => l.enabled)
      .map((l) => ({ code: l.code, name: l.name, nativeName: l.nativeName, isDefault: l.isDefault }));
  }

  /** The site default language's code (`en` if the table were ever empty). */
  async defaultLanguage(tx?: Queryable): Promise<string> {
    const rows = await this.repo.list(tx);
    return rows.find((l) => l.isDefault)?.code ?? 'en';
  }

  /**
   * The languages to try, in order, for a text in `code`: the language itself, its fallback chain
   * (each fallback followed by its own chain, depth first, each language once), then the site
   * default. Only enabled languages; an unknown or disabled `code` gives just the default.
   */
  async fallbackChain(code: string, tx?: Queryable): Promise<string[]> {
    return chainOf(await this.repo.list(tx), code);
  }

  /**
   * The enabled languages among `codes`, locked (FOR SHARE) until `tx` ends, so a content write
   * that checked them cannot interleave with a disable or a forced delete. Canonical codes.
   */
  async lockEnabled(codes: readonly string[], tx: Queryable): Promise<string[]> {
    return this.repo.lockEnabled(codes, tx);
  }

  // ---- admin ----------------------------------------------------------------------------------

  async get(codeInput: string): Promise<Language> {
    const code = requireTag(codeInput, 'params/code');
    const row = await this.repo.get(code);
    if (!row) throw languageErrors.notFound(code);
    return toLanguageJson(row);
  }

  async create(by: Author, body: LanguageCreate): Promise<Language> {
    const code = requireTag(body.code, 'body/code');
    const names = displayNames(code);
    const enabled = body.enabled ?? true;
    if (body.isDefault && !enabled) throw languageErrors.isDefault(code, 'disabled');
    const now = this.clock.now();
    try {
      const created = await this.db.transaction(async (tx) => {
        if (body.isDefault) await this.repo.lockDefault(tx);
        if ((await this.repo.count(tx)) >= MAX_LANGUAGES) throw languageErrors.limit(MAX_LANGUAGES);
        if (await this.repo.get(code, tx)) throw languageErrors.exists(code);
        const fallback = await this.checkFallback(code, body.fallback ?? [], tx);
        if (body.isDefault) await this.repo.clearDefault(code, now, tx);
        await this.repo.insert(
          {
            code,
            name: body.name ?? names.name,
            nativeName: body.nativeName ?? names.nativeName,
            enabled,
            isDefault: body.isDefault === true,
            fallback,
            now,
          },
          tx,
        );
        const row = await this.mustGet(code, tx);
        await this.record(by, AUDIT_ACTIONS.languageCreated, code, { enabled, isDefault: row.isDefault, fallback }, tx);
        if (row.isDefault) for (const hook of this.contentHooks) await hook(tx);
        return row;
      });
      await this.changed({ kind: 'created', code, contentChanged: false });
      return toLanguageJson(created);
    } catch (err) {
      throw mapUniqueViolation(err, code);
    }
  }

  async update(by: Author, codeInput: string, body: LanguagePatch): Promise<Language> {
    const code = requireTag(codeInput, 'params/code');
    const now = this.clock.now();
    try {
      const updated = await this.db.transaction(async (tx) => {
        // The default lock before any row lock, as for portfolios: no deadlock between switches.
        if (body.isDefault === true) await this.repo.lockDefault(tx);
        const current = await this.repo.get(code, tx, { forUpdate: true });
        if (!current) throw languageErrors.notFound(code);
        const enabled = body.enabled ?? current.enabled;
        const makeDefault = body.isDefault === true && !current.isDefault;
        if (current.isDefault && body.isDefault === false) throw languageErrors.isDefault(code, 'unset');
        if ((current.isDefault || body.isDefault === true) && !enabled)
          throw languageErrors.isDefault(code, 'disabled');
        if (current.enabled && !enabled) await this.checkDisable(code, tx);
        const fallback = body.fallback === undefined ? undefined : await this.checkFallback(code, body.fallback, tx);
        const previousDefault = makeDefault ? (await this.repo.list(tx)).find((l) => l.isDefault)?.code : undefined;
        // One transaction: never two defaults, never none.
        if (makeDefault) await this.repo.clearDefault(code, now, tx);
        await this.repo.update(
          code,
          {
            name: body.name,
            nativeName: body.nativeName,
            enabled: body.enabled,
            isDefault: makeDefault ? true : undefined,
            fallback,
          },
          now,
          tx,
        );
        const changes: Record<string, unknown> = { ...body, ...(fallback ? { fallback } : {}) };
        if (makeDefault) changes['previousDefault'] = previousDefault ?? null;
        await this.record(by, AUDIT_ACTIONS.languageUpdated, code, changes, tx);
        // What reads fall back to (the default, a chain, which languages exist) changed: so may every public read.
        const enabledChanged = body.enabled !== undefined && body.enabled !== current.enabled;
        if (makeDefault || fallback !== undefined || enabledChanged)
          for (const hook of this.contentHooks) await hook(tx);
        return this.mustGet(code, tx);
      });
      await this.changed({ kind: 'updated', code, contentChanged: false });
      return toLanguageJson(updated);
    } catch (err) {
      throw mapUniqueViolation(err, code);
    }
  }

  /**
   * Makes `codeInput` the site default inside the caller's transaction (the site settings,
   * src/settings/, change it in theirs, with their own audit event). An enabled language only
   * (400 LANGUAGE_NOT_ENABLED at `path`); the old default is unset in the same transaction and
   * the change audited like a PATCH; the content hooks run (the default is every read's last
   * fallback); listeners and the other nodes hear of it once `tx` commits. No-op when it already is.
   */
  async setDefault(
    by: Author,
    codeInput: string,
    tx: Queryable,
    path = 'body/defaultLanguage',
  ): Promise<{ code: string; previous: string | null }> {
    const code = requireTag(codeInput, path);
    await this.repo.lockDefault(tx);
    const current = await this.repo.get(code, tx, { forUpdate: true });
    if (!current?.enabled) throw languageErrors.notEnabled(path, current?.code ?? code);
    const previous = (await this.repo.list(tx)).find((l) => l.isDefault)?.code ?? null;
    if (current.isDefault) return { code: current.code, previous };
    const now = this.clock.now();
    await this.repo.clearDefault(current.code, now, tx);
    await this.repo.update(current.code, { isDefault: true }, now, tx);
    await this.record(
      by,
      AUDIT_ACTIONS.languageUpdated,
      current.code,
      { isDefault: true, previousDefault: previous },
      tx,
    );
    for (const hook of this.contentHooks) await hook(tx);
    afterCommit(tx, () => void this.changed({ kind: 'updated', code: current.code, contentChanged: false }));
    return { code: current.code, previous };
  }

  /**
   * Deletes a language. Refused for the default, for a language a portfolio is written in, and
   * for one a role is limited to. When content uses it (translations, site texts, other
   * languages' fallbacks, media tagged with it or translated into it), only with `force`, which
   * removes all of that (media are untagged, not deleted) in the same transaction.
   */
  async delete(by: Author, codeInput: string, force: boolean): Promise<{ removed: Record<string, number> }> {
    const code = requireTag(codeInput, 'params/code');
    const now = this.clock.now();
    const result = await this.db.transaction(async (tx) => {
      const current = await this.repo.get(code, tx, { forUpdate: true });
      if (!current) throw languageErrors.notFound(code);
      if (current.isDefault) throw languageErrors.isDefault(code, 'deleted');
      const usage = await this.repo.usage(code, this.translatedTables, tx);
      if (usage.portfolioDefaults > 0) throw languageErrors.portfolioDefault(code, usage.portfolioDefaults);
      await this.checkRoles(code, tx);
      const used =
        Object.values(usage.translations).some((n) => n > 0) ||
        usage.siteTexts > 0 ||
        usage.fallbacks > 0 ||
        usage.media > 0;
      if (used && !force) {
        throw languageErrors.inUse(code, {
          ...usage.translations,
          siteTexts: usage.siteTexts,
          fallbacks: usage.fallbacks,
          media: usage.media,
        });
      }
      const removed: Record<string, number> = {};
      for (const t of this.translatedTables) {
        if ((usage.translations[t.table] ?? 0) > 0)
          removed[t.table] = await this.repo.removeTranslations(code, t.table, now, tx);
      }
      // Media tagged with it are untagged (shown to every read), their translation in it dropped.
      if (usage.media > 0) removed['media'] = await this.repo.removeFromMedia(code, now, tx);
      if (used) for (const hook of this.contentHooks) await hook(tx);
      if (usage.fallbacks > 0) await this.repo.removeFromFallbacks(code, now, tx);
      // Site texts go with the row (foreign key, on delete cascade).
      removed['siteTexts'] = usage.siteTexts;
      await this.repo.delete(code, tx);
      await this.record(by, AUDIT_ACTIONS.languageDeleted, code, { force, removed, fallbacks: usage.fallbacks }, tx);
      return { removed, contentChanged: used };
    });
    await this.changed({ kind: 'deleted', code, contentChanged: result.contentChanged });
    return { removed: result.removed };
  }

  /**
   * For each portfolio of a page (by id) and each of its children, the translatable fields with
   * no text in `lang`. In a portfolio's own language, the plain fields that are empty; in any
   * other, the fields whose plain text is not empty and that have no translation in exactly
   * `lang` (a fallback does not count: the report shows what is left to translate).
   */
  async missing(
    langInput: string,
    page: { limit?: number | undefined; cursor?: string | undefined },
  ): Promise<MissingReport> {
    const lang = requireTag(langInput, 'querystring/lang');
    if (!(await this.repo.get(lang))) throw languageErrors.notEnabled('querystring/lang', lang);
    const limit = page.limit ?? 10;
    const [after] = cursorAfter(page.cursor, ['uuid']) ?? [];
    const [portfolioTable, ...childTables] = this.translatedTables;
    if (!portfolioTable) return { lang, items: [], nextCursor: null };
    const rows = keysetPage(
      await this.repo.portfolioPage(portfolioTable.fields, { limit: limit + 1, after }),
      limit,
      (r) => [r.id],
    );
    const ids = rows.items.map((r) => r.id);
    const children = ids.length === 0 ? [] : await Promise.all(childTables.map((t) => this.repo.childTexts(t, ids)));
    const images = ids.length === 0 ? [] : await this.repo.imageAltTexts(ids);
    const items = rows.items.map((p) => {
      const defaultLanguage = String(p['defaultLanguage']);
      const missing: MissingReport['items'][number]['missing'] = [];
      const check = (kind: string, row: TextRow, fields: readonly string[], label: unknown) => {
        const shown = typeof label === 'string' ? label : '';
        const absent = missingFields(row, fields, lang, defaultLanguage);
        if (absent.length > 0) missing.push({ kind, id: row.id, label: shown, fields: absent });
      };
      check('portfolio', p, Object.keys(portfolioTable.fields), p['title']);
      childTables.forEach((t, i) => {
        for (const row of children[i] ?? [])
          if (row['portfolioId'] === p.id) check(t.table, row, Object.keys(t.fields), row['_label']);
      });
      // Images (src/security/uploads): alt text, in the default language first. An image for one
      // language is shown only in it, so only that language's and the default's reports list it.
      for (const image of images) {
        if (image['portfolioId'] !== p.id) continue;
        const only = typeof image['language'] === 'string' ? image['language'].toLowerCase() : null;
        if (only !== null && only !== lang.toLowerCase() && lang.toLowerCase() !== defaultLanguage.toLowerCase())
          continue;
        check('media', image, ['alt'], image['_label']);
      }
      return {
        portfolioId: p.id,
        slug: String(p['slug']),
        title: String(p['title']),
        defaultLanguage,
        missingFields: missing.reduce((n, m) => n + m.fields.length, 0),
        missing,
      };
    });
    return { lang, items, nextCursor: rows.nextCursor };
  }

  // ---- rules ----------------------------------------------------------------------------------

  /** Canonical, existing, enabled, not the language itself, and no loop through other chains. */
  private async checkFallback(code: string, input: readonly string[], tx: Queryable): Promise<string[]> {
    const chain = input.map((v, i) => requireTag(v, `body/fallback/${i}`));
    if (new Set(chain).size !== chain.length) throw languageErrors.invalidTag('body/fallback', 'duplicate entries');
    if (chain.length === 0) return chain;
    const all = await this.repo.list(tx);
    const byCode = new Map(all.map((l) => [l.code, l]));
    chain.forEach((c, i) => {
      if (c === code) throw languageErrors.fallbackCycle([code, code]);
      if (!byCode.get(c)?.enabled) throw languageErrors.notEnabled(`body/fallback/${i}`, c);
    });
    // With this chain in place, does any path from `code` come back to it?
    const next = (c: string) => (c === code ? chain : (byCode.get(c)?.fallback ?? []));
    const cycle = findCycle(code, next);
    if (cycle) throw languageErrors.fallbackCycle(cycle);
    return chain;
  }

  /**
   * A language that a portfolio is written in, that another enabled language falls back to, or
   * that a role is limited to, stays enabled.
   */
  private async checkDisable(code: string, tx: Queryable): Promise<void> {
    const usage = await this.repo.usage(code, [], tx);
    if (usage.portfolioDefaults > 0) throw languageErrors.portfolioDefault(code, usage.portfolioDefaults);
    const by = (await this.repo.fallingBackTo(code, tx)).filter((c) => c !== code);
    if (by.length > 0) throw languageErrors.inFallback(code, by);
    await this.checkRoles(code, tx);
  }

  /** A language a role is limited to stays (409 LANGUAGE_HELD_BY_ROLE, with the roles), force or not. */
  private async checkRoles(code: string, tx: Queryable): Promise<void> {
    const roles = await this.roles.limitedTo(code, tx);
    if (roles.length > 0) throw languageErrors.heldByRoles(code, roles);
  }

  private async record(by: Author, action: string, code: string, metadata: Record<string, unknown>, tx: Queryable) {
    await this.audit.record(
      {
        action,
        actor: by.actorId,
        outcome: 'success',
        target: { type: 'language', id: code },
        metadata,
        ...by.context,
      },
      tx,
    );
  }

  private async changed(change: LanguageChange): Promise<void> {
    await this.notify(change);
    await this.announce(change).catch((err: unknown) => this.log.warn({ err }, 'language change announce failed'));
  }

  private async mustGet(code: string, tx: Queryable): Promise<LanguageRow> {
    const row = await this.repo.get(code, tx);
    if (!row) throw new Error('language vanished inside its transaction');
    return row;
  }
}

/** chainOf over rows already read: see fallbackChain. */
export function chainOf(rows: readonly LanguageRow[], code: string): string[] {
  const out = declaredChain(rows, code);
  const fallbackDefault = rows.find((l) => l.isDefault)?.code;
  if (fallbackDefault !== undefined && !out.includes(fallbackDefault)) out.push(fallbackDefault);
  return out;
}

/**
 * The language and the fallbacks the site languages declare for it, depth first (each fallback
 * followed by its own), enabled ones only, each once; without the site default chainOf appends.
 * Empty for a code that is no enabled language. The public read walks the same in SQL.
 */
export function declaredChain(
  rows: readonly Pick<LanguageRow, 'code' | 'enabled' | 'fallback'>[],
  code: string,
): string[] {
  const byCode = new Map(rows.filter((l) => l.enabled).map((l) => [l.code, l]));
  const out: string[] = [];
  const visit = (c: string) => {
    const language = byCode.get(c);
    if (!language || out.includes(c)) return;
    out.push(c);
    for (const next of language.fallback) visit(next);
  };
  const canonical = canonicalLanguageTag(code);
  if (canonical !== undefined) visit(canonical);
  return out;
}

/** The first loop back to `start` following `next`, as the list of codes on it; undefined when none. */
function findCycle(start: string, next: (code: string) => readonly string[]): string[] | undefined {
  const path: string[] = [];
  const done = new Set<string>();
  const walk = (c: string): string[] | undefined => {
    if (path.includes(c)) return c === start ? [...path, c] : undefined;
    if (done.has(c)) return undefined;
    path.push(c);
    for (const n of next(c)) {
      const found = walk(n);
      if (found) return found;
    }
    path.pop();
    done.add(c);
    return undefined;
  };
  return walk(start);
}

/** The fields of a row with no text in `lang` (see LanguageService.missing). */
function missingFields(row: TextRow, fields: readonly string[], lang: string, defaultLanguage: string): string[] {
  const plain = (f: string) => {
    const v = row[f];
    return typeof v === 'string' ? v.trim() : '';
  };
  if (lang.toLowerCase() === defaultLanguage.toLowerCase()) return fields.filter((f) => plain(f) === '');
  const texts = asTranslations(row.translations)[lang] ?? {};
  return fields.filter((f) => plain(f) !== '' && (texts[f] ?? '').trim() === '');
}
