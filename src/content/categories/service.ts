/**
 * Category types and categories (issue 17 item 3; docs/CONTENT.md). Site-wide: any signed-in
 * account that may read content reads them (to pick categories for its own rows); only
 * `content:write_any` (editors, admins) changes them, as with site languages; a translator
 * limited to languages changes only their translations in its languages. A category's texts
 * reach the public read of every portfolio that uses it, so a change touches those portfolios in
 * its transaction (docs/PUBLIC_READ.md).
 */
import type { Clock } from '../../platform/clock.js';
import { pgErrorCode, UNIQUE_VIOLATION, type Db, type Queryable } from '../../platform/db/index.js';
import { newId } from '../../platform/ids.js';
import {
  authorizeContent,
  hasPermission,
  holdsForLanguagesOnly,
  requirePermission,
  type Actor,
} from '../../users/policy.js';
import { languageErrors } from '../languages/errors.js';
import { asTranslations, assertNoDefaultLanguageEntry, type Translations } from '../translations.js';
import { categoryErrors } from './errors.js';
import { CategoryRepository, type CategoryRow, type CategoryTypeRow } from './repository.js';
import {
  MAX_CATEGORIES,
  MAX_CATEGORY_TYPES,
  type Category,
  type CategoryCreate,
  type CategoryPatch,
  type CategoryType,
  type CategoryTypeCreate,
} from './schema.js';

/** What categories need of site languages (app.languages). */
export interface CategoryLanguages {
  defaultLanguage(tx?: Queryable): Promise<string>;
  lockEnabled(codes: readonly string[], tx: Queryable): Promise<string[]>;
}

/** What categories need of the public read (app.content.publicChanges). */
export interface CategoryChanges {
  touch(q: Queryable, portfolioIds: readonly string[]): Promise<void>;
}

const iso = (d: Date) => (d instanceof Date ? d : new Date(d)).toISOString();

function toTypeJson(row: CategoryTypeRow): CategoryType {
  return {
    code: row.code,
    name: row.name,
    translations: asTranslations(row.translations),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

function toCategoryJson(row: CategoryRow): Category {
  return {
    id: row.id,
    code: row.code,
    typeCode: row.typeCode,
    name: row.name,
    translations: asTranslations(row.translations),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/**
 * Categories belong to no account: as an object of `authorizeContent` their owner is no account,
 * so only the `content:*_any` permissions (full, or limited to languages) reach them.
 */
const NO_OWNER = '';

/** Reading needs a permission to read content (own or any): every built-in role has one. */
function requireRead(actor: Actor): void {
  if (!hasPermission(actor, 'portfolio:read')) requirePermission(actor, 'content:read_any');
}

export class CategoryService {
  readonly repo: CategoryRepository;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly languages: CategoryLanguages,
    private readonly changes: CategoryChanges,
  ) {
    this.repo = new CategoryRepository(db);
  }

  async listTypes(actor: Actor): Promise<CategoryType[]> {
    requireRead(actor);
    return (await this.repo.listTypes()).map(toTypeJson);
  }

  async createType(actor: Actor, body: CategoryTypeCreate): Promise<CategoryType> {
    requirePermission(actor, 'content:write_any');
    const now = this.clock.now();
    return this.unique(
      () =>
        this.db.transaction(async (tx) => {
          await this.checkTranslations(body.translations, tx);
          await this.repo.lockTypes(tx);
          if ((await this.repo.countTypes(tx)) >= MAX_CATEGORY_TYPES)
            throw categoryErrors.limit('category types', MAX_CATEGORY_TYPES);
          await this.repo.createType(
            { code: body.code, name: body.name, translations: body.translations ?? {}, now },
            tx,
          );
          const row = await this.repo.getType(body.code, tx);
          if (!row) throw new Error('category type vanished inside its transaction');
          return toTypeJson(row);
        }),
      () => categoryErrors.typeExists(body.code),
    );
  }

  async list(actor: Actor, typeCode: string | undefined): Promise<Category[]> {
    requireRead(actor);
    return (await this.repo.list(typeCode)).map(toCategoryJson);
  }

  async get(actor: Actor, id: string): Promise<Category> {
    requireRead(actor);
    const row = await this.repo.get(id);
    if (!row) throw categoryErrors.notFound();
    return toCategoryJson(row);
  }

  async create(actor: Actor, body: CategoryCreate): Promise<Category> {
    requirePermission(actor, 'content:write_any');
    const id = newId();
    const now = this.clock.now();
    return this.unique(
      () =>
        this.db.transaction(async (tx) => {
          if (!(await this.repo.getType(body.typeCode, tx))) throw categoryErrors.unknownType(body.typeCode);
          await this.checkTranslations(body.translations, tx);
          await this.repo.lockCategories(tx);
          if ((await this.repo.count(tx)) >= MAX_CATEGORIES) throw categoryErrors.limit('categories', MAX_CATEGORIES);
          await this.repo.create({ id, ...body, translations: body.translations ?? {}, now }, tx);
          // A new category is on no row yet: no public read changes.
          return toCategoryJson(await this.mustGet(id, tx));
        }),
      () => categoryErrors.exists(body.typeCode, body.code),
    );
  }

  /**
   * Editors and admins change anything. A translator (`content:write_any` limited to languages)
   * changes only `translations` of its languages, every other entry as stored: the same rule as
   * for content rows, decided by `authorizeContent` with the body (403 FORBIDDEN otherwise).
   */
  async update(actor: Actor, id: string, body: CategoryPatch): Promise<Category> {
    const translator = holdsForLanguagesOnly(actor, 'content:write_any');
    if (!translator) requirePermission(actor, 'content:write_any');
    const now = this.clock.now();
    return this.unique(
      () =>
        this.db.transaction(async (tx) => {
          const current = await this.repo.get(id, tx, { forUpdate: true });
          if (!current) throw categoryErrors.notFound();
          if (translator)
            authorizeContent(
              actor,
              'write',
              { ownerId: NO_OWNER, translations: current.translations },
              'Category',
              body,
            );
          if (body.typeCode !== undefined && !(await this.repo.getType(body.typeCode, tx)))
            throw categoryErrors.unknownType(body.typeCode);
          await this.checkTranslations(body.translations, tx);
          await this.repo.update(id, body, now, tx);
          // Its code and name are in the public read of every portfolio that uses it.
          await this.changes.touch(tx, await this.repo.portfoliosUsing(id, tx));
          return toCategoryJson(await this.mustGet(id, tx));
        }),
      () => categoryErrors.exists(body.typeCode ?? '(its type)', body.code ?? '(its code)'),
    );
  }

  async delete(actor: Actor, id: string, force: boolean): Promise<void> {
    requirePermission(actor, 'content:write_any');
    await this.db.transaction(async (tx) => {
      const current = await this.repo.get(id, tx, { forUpdate: true });
      if (!current) throw categoryErrors.notFound();
      const usage = await this.repo.usage(id, tx);
      if (usage > 0 && !force) throw categoryErrors.inUse(usage);
      // Before the links go (they cascade with the row): those portfolios change.
      await this.changes.touch(tx, await this.repo.portfoliosUsing(id, tx));
      await this.repo.delete(id, tx);
    });
  }

  /**
   * A category's `name` is in the site default language; translations must be other, enabled
   * languages (locked until the transaction ends, like content writes that check them).
   */
  private async checkTranslations(translations: Translations | undefined, tx: Queryable): Promise<void> {
    if (!translations) return;
    assertNoDefaultLanguageEntry(translations, await this.languages.defaultLanguage(tx));
    const tags = Object.keys(translations);
    if (tags.length === 0) return;
    const enabled = new Set(await this.languages.lockEnabled(tags, tx));
    for (const tag of tags) if (!enabled.has(tag)) throw languageErrors.notEnabled(`body/translations/${tag}`, tag);
  }

  private async mustGet(id: string, tx: Queryable): Promise<CategoryRow> {
    const row = await this.repo.get(id, tx);
    if (!row) throw new Error('category vanished inside its transaction');
    return row;
  }

  /** A unique violation (code taken, a concurrent create) becomes the 409 the caller names. */
  private async unique<T>(run: () => Promise<T>, conflict: () => Error): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) throw conflict();
      throw err;
    }
  }
}
