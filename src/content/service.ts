/**
 * Content logic. Every read and write of an owned object goes through `authorizeContent` from
 * users/policy.ts, which turns "not yours" into the same 404 as "not there". Children are
 * authorized through their portfolio's owner, read in the same query as the child itself.
 */
import type { FastifyBaseLogger } from 'fastify';
import { cursorAfter, invalidCursor, keysetPage, type Page } from '../http/cursor.js';
import type { Clock } from '../platform/clock.js';
import { pgErrorCode, UNIQUE_VIOLATION, type Db, type Queryable } from '../platform/db/index.js';
import { newId } from '../platform/ids.js';
import type { Kv } from '../platform/kv/types.js';
import { authorizeContent, canOnContent, hasPermission, requirePermission, type Actor } from '../users/policy.js';
import { contentErrors } from './errors.js';
import { languageErrors } from './languages/errors.js';
import { canonicalLanguageTag } from './languages/tags.js';
import { PublicReadCache } from './public-read/cache.js';
import { PublicReadChanges } from './public-read/changes.js';
import { PublicReadRepository, PublicSnapshotRepository, PublicVersionRepository } from './public-read/repository.js';
import { PublicContentService } from './public-read/service.js';
import {
  ChildRepository,
  PortfolioRepository,
  type ChildRow,
  type PortfolioRow,
  type PortfolioWrite,
} from './repository.js';
import { RelationService } from './relations/service.js';
import { POSITION_MAX, type ChildResource } from './resource.js';
import {
  CHILD_RESOURCES,
  MAX_PORTFOLIOS_PER_OWNER,
  PORTFOLIO_TRANSLATABLE,
  RESERVED_SLUGS,
  scheduleProblem,
  type Portfolio,
  type PortfolioCreate,
  type PortfolioPatch,
} from './schema.js';
import { asTranslations, assertNoDefaultLanguageEntry, type Translations } from './translations.js';

export interface PageRequest {
  limit?: number | undefined;
  cursor?: string | undefined;
}
export type ChildJson = Record<string, unknown> & { id: string; portfolioId: string };

const DEFAULT_LIMIT = 20;
/** What portfolios need of the site languages (src/content/languages: `app.languages`). */
export interface PortfolioLanguages {
  defaultLanguage(tx?: Queryable): Promise<string>;
  lockEnabled(codes: readonly string[], tx: Queryable): Promise<string[]>;
}

export function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

export function toPortfolioJson(row: PortfolioRow): Portfolio {
  return {
    id: row.id,
    ownerId: row.ownerId,
    slug: row.slug,
    title: row.title,
    summary: row.summary,
    visibility: row.visibility,
    published: row.published,
    publishAt: row.publishAt ? iso(row.publishAt) : null,
    unpublishAt: row.unpublishAt ? iso(row.unpublishAt) : null,
    defaultLanguage: row.defaultLanguage,
    isDefault: row.isDefault,
    translations: asTranslations(row.translations),
    categoryIds: Array.isArray(row.categoryIds) ? row.categoryIds : [],
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

export function toChildJson(resource: ChildResource, row: ChildRow): ChildJson {
  const out: ChildJson = { id: row.id, portfolioId: row.portfolioId };
  for (const name of Object.keys(resource.fields)) {
    const value = row[name];
    out[name] = value instanceof Date ? value.toISOString() : (value ?? null);
  }
  out['position'] = row.position;
  out['translations'] = asTranslations(row.translations);
  for (const relation of resource.relations) out[relation] = Array.isArray(row[relation]) ? row[relation] : [];
  out['createdAt'] = iso(row.createdAt);
  out['updatedAt'] = iso(row.updatedAt);
  return out;
}

/** Unique violations name their index: the slug one is the client's problem, the default one a race. */
function mapUniqueViolation(err: unknown): unknown {
  if (pgErrorCode(err) !== UNIQUE_VIOLATION) return err;
  const constraint = (err as { constraint?: unknown }).constraint;
  if (constraint === 'portfolios_one_default') return contentErrors.defaultConflict();
  if (constraint === 'portfolios_slug_key') return contentErrors.slugTaken();
  return err;
}

function checkSlug(slug: string): void {
  if (RESERVED_SLUGS.has(slug)) throw contentErrors.slugReserved(slug);
}

/** A schedule time as the repository stores it: undefined leaves it, null clears it. */
const scheduleTime = (value: string | null | undefined) =>
  value === undefined ? undefined : value === null ? null : new Date(value);

function checkSchedule(row: Readonly<Record<string, unknown>>): void {
  const problem = scheduleProblem(row);
  if (problem) throw contentErrors.invalid(problem.path, problem.message);
}

export class PortfolioService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    readonly repo: PortfolioRepository,
    private readonly changes: PublicReadChanges,
    private readonly languages: PortfolioLanguages,
    private readonly relations: RelationService = new RelationService(db),
  ) {}

  /** The portfolios the actor may read: their own, or everyone's with content:read_any. */
  async list(actor: Actor, page: PageRequest): Promise<Page<Portfolio>> {
    const limit = page.limit ?? DEFAULT_LIMIT;
    const [after] = cursorAfter(page.cursor, ['uuid']) ?? [];
    const ownerId = hasPermission(actor, 'content:read_any') ? undefined : actor.userId;
    const rows = keysetPage(await this.repo.list({ ownerId, limit: limit + 1, after }), limit, (row) => [row.id]);
    return {
      // The query already scopes by owner; the policy still has the last word on every row.
      items: rows.items.filter((row) => canOnContent(actor, 'read', row)).map(toPortfolioJson),
      nextCursor: rows.nextCursor,
    };
  }

  async get(actor: Actor, id: string): Promise<Portfolio> {
    const row = await this.repo.get(id);
    authorizeContent(actor, 'read', row, 'Portfolio');
    return toPortfolioJson(row);
  }

  async create(actor: Actor, body: PortfolioCreate): Promise<Portfolio> {
    requirePermission(actor, 'portfolio:write');
    // The site default is shown to every visitor: choosing it is an editorial decision.
    if (body.isDefault !== undefined) requirePermission(actor, 'content:write_any');
    checkSlug(body.slug);
    checkSchedule(body);
    const id = newId();
    const now = this.clock.now();
    try {
      return await this.db.transaction(async (tx) => {
        if ((await this.repo.countByOwner(actor.userId, tx)) >= MAX_PORTFOLIOS_PER_OWNER) {
          throw contentErrors.limitReached('portfolios per user', MAX_PORTFOLIOS_PER_OWNER);
        }
        const defaultLanguage = await this.enabledLanguage(body.defaultLanguage, tx);
        assertNoDefaultLanguageEntry(body.translations, defaultLanguage);
        await this.relations.checkCategories(body.categoryIds, tx);
        let cleared: string[] = [];
        if (body.isDefault) {
          await this.repo.lockDefault(tx);
          cleared = await this.repo.clearDefault(id, now, tx);
        }
        await this.repo.create(
          {
            id,
            ownerId: actor.userId,
            now,
            slug: body.slug,
            title: body.title,
            summary: body.summary,
            visibility: body.visibility,
            published: body.published,
            publishAt: scheduleTime(body.publishAt),
            unpublishAt: scheduleTime(body.unpublishAt),
            defaultLanguage,
            isDefault: body.isDefault,
            translations: body.translations,
          },
          tx,
        );
        await this.relations.writePortfolio(id, body, tx);
        await this.changes.touch(tx, [id, ...cleared]);
        return toPortfolioJson(await this.mustGet(id, tx));
      });
    } catch (err) {
      throw mapUniqueViolation(err);
    }
  }

  async update(actor: Actor, id: string, body: PortfolioPatch): Promise<Portfolio> {
    const now = this.clock.now();
    try {
      return await this.db.transaction(async (tx) => {
        // The default lock comes before any row lock: taken after, two switches could each hold
        // a row the other's clearDefault needs, and deadlock. Callers who will be refused anyway
        // never take it, so they cannot stall everyone else's switches.
        if (body.isDefault === true && hasPermission(actor, 'content:write_any')) await this.repo.lockDefault(tx);
        const current = await this.repo.get(id, tx, { forUpdate: true });
        authorizeContent(actor, 'write', current, 'Portfolio', body);
        if (body.isDefault !== undefined) requirePermission(actor, 'content:write_any');
        if (body.slug !== undefined) checkSlug(body.slug);
        await this.relations.checkCategories(body.categoryIds, tx);
        checkSchedule({
          publishAt: body.publishAt !== undefined ? body.publishAt : current.publishAt,
          unpublishAt: body.unpublishAt !== undefined ? body.unpublishAt : current.unpublishAt,
        });
        const defaultLanguage =
          body.defaultLanguage === undefined ? undefined : await this.enabledLanguage(body.defaultLanguage, tx);
        if (body.translations !== undefined || defaultLanguage !== undefined) {
          assertNoDefaultLanguageEntry(
            body.translations ?? asTranslations(current.translations),
            defaultLanguage ?? current.defaultLanguage,
          );
        }
        // Same transaction: there is never a moment with two defaults, or none by accident.
        const cleared = body.isDefault === true ? await this.repo.clearDefault(id, now, tx) : [];
        const patch: PortfolioWrite = {
          slug: body.slug,
          title: body.title,
          summary: body.summary,
          visibility: body.visibility,
          published: body.published,
          publishAt: scheduleTime(body.publishAt),
          unpublishAt: scheduleTime(body.unpublishAt),
          defaultLanguage,
          isDefault: body.isDefault,
          translations: body.translations,
        };
        await this.repo.update(id, patch, now, tx);
        await this.relations.writePortfolio(id, body, tx);
        await this.changes.touch(tx, [id, ...cleared]);
        return toPortfolioJson(await this.mustGet(id, tx));
      });
    } catch (err) {
      throw mapUniqueViolation(err);
    }
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const current = await this.repo.get(id, tx, { forUpdate: true });
      authorizeContent(actor, 'write', current, 'Portfolio');
      // Before the row goes: the announcement names it, so every node drops its copies.
      await this.changes.touch(tx, [id]);
      await this.repo.delete(id, tx);
    });
  }

  /**
   * A portfolio is written in an enabled site language (the site default when none is given),
   * stored as the language table spells it; share-locked until `tx` ends, so a disable or a forced
   * delete cannot slip in between.
   */
  private async enabledLanguage(code: string | undefined, tx: Queryable): Promise<string> {
    const wanted = code ?? (await this.languages.defaultLanguage(tx));
    const [enabled] = await this.languages.lockEnabled([canonicalLanguageTag(wanted) ?? wanted], tx);
    if (enabled === undefined) throw languageErrors.notEnabled('body/defaultLanguage', wanted);
    return enabled;
  }

  /** For children: the portfolio the actor may act on, locked when writing. */
  async authorizedParent(actor: Actor, id: string, action: 'read' | 'write', tx?: Queryable): Promise<PortfolioRow> {
    const parent = await this.repo.get(id, tx, { forUpdate: action === 'write' });
    authorizeContent(actor, action, parent, 'Portfolio');
    return parent;
  }

  private async mustGet(id: string, tx: Queryable): Promise<PortfolioRow> {
    const row = await this.repo.get(id, tx);
    if (!row) throw new Error('portfolio vanished inside its transaction');
    return row;
  }
}

/** Logic for one child kind; the five kinds are five instances of this class. */
export class ChildService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    readonly resource: ChildResource,
    readonly repo: ChildRepository,
    private readonly portfolios: PortfolioService,
    private readonly changes: PublicReadChanges,
    private readonly relations: RelationService = new RelationService(db),
  ) {}

  async list(actor: Actor, portfolioId: string, page: PageRequest): Promise<Page<ChildJson>> {
    const limit = page.limit ?? DEFAULT_LIMIT;
    const decoded = cursorAfter(page.cursor, ['number', 'uuid']);
    let after: { position: number; id: string } | undefined;
    if (decoded) {
      const [position, id] = decoded;
      if (position < 0 || position > POSITION_MAX) throw invalidCursor();
      after = { position, id };
    }
    // One query: the page and its portfolio's owner; the policy decides on that owner.
    const withOwner = await this.repo.listWithOwner(portfolioId, { limit: limit + 1, after });
    authorizeContent(actor, 'read', withOwner, 'Portfolio');
    const rows = keysetPage(withOwner.rows, limit, (row) => [row.position, row.id]);
    return { items: rows.items.map((row) => toChildJson(this.resource, row)), nextCursor: rows.nextCursor };
  }

  async get(actor: Actor, id: string): Promise<ChildJson> {
    const row = await this.repo.get(id);
    authorizeContent(actor, 'read', row, this.resource.name);
    return toChildJson(this.resource, row);
  }

  async create(actor: Actor, portfolioId: string, body: Record<string, unknown>): Promise<ChildJson> {
    const { values, position, translations } = this.split(body);
    this.checkRow(values);
    const id = newId();
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      // The parent row stays locked until commit, so concurrent creates cannot overshoot the cap.
      const parent = await this.portfolios.authorizedParent(actor, portfolioId, 'write', tx);
      assertNoDefaultLanguageEntry(translations, parent.defaultLanguage);
      await this.checkCapacity(portfolioId, tx);
      Object.assign(values, await this.relations.beforeChildWrite(this.resource, { id, portfolioId, body }, tx));
      await this.repo.create({ id, portfolioId, position, translations, values, now }, tx);
      await this.relations.afterChildWrite(this.resource, { id, portfolioId, body }, tx);
      await this.changes.touch(tx, [portfolioId]);
      return toChildJson(this.resource, await this.mustGet(id, tx));
    });
  }

  async update(actor: Actor, id: string, body: Record<string, unknown>): Promise<ChildJson> {
    const { values, position, translations } = this.split(body);
    const target = typeof body['portfolioId'] === 'string' ? body['portfolioId'] : undefined;
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      const current = await this.repo.get(id, tx, { forUpdate: true });
      authorizeContent(actor, 'write', current, this.resource.name, body);
      let defaultLanguage = current.portfolioDefaultLanguage;
      let portfolioId: string | undefined;
      if (target !== undefined && target !== current.portfolioId) {
        // Moving needs write access to the destination too; an unreadable one is "not found".
        const destination = await this.portfolios.authorizedParent(actor, target, 'write', tx);
        await this.checkCapacity(target, tx);
        defaultLanguage = destination.defaultLanguage;
        portfolioId = target;
      }
      assertNoDefaultLanguageEntry(translations, defaultLanguage);
      const relationWrite = {
        id,
        portfolioId: portfolioId ?? current.portfolioId,
        body,
        current,
        moving: portfolioId !== undefined,
      };
      Object.assign(values, await this.relations.beforeChildWrite(this.resource, relationWrite, tx));
      this.checkRow({ ...current, ...values });
      await this.repo.update(id, { values, position, translations, portfolioId }, now, tx);
      await this.relations.afterChildWrite(this.resource, relationWrite, tx);
      await this.changes.touch(tx, [current.portfolioId, ...(portfolioId ? [portfolioId] : [])]);
      return toChildJson(this.resource, await this.mustGet(id, tx));
    });
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const current = await this.repo.get(id, tx, { forUpdate: true });
      authorizeContent(actor, 'write', current, this.resource.name);
      await this.repo.delete(id, tx);
      await this.changes.touch(tx, [current.portfolioId]);
    });
  }

  /**
   * Rewrites the positions of the portfolio's rows of this kind to 0..n-1 in the order of `ids`,
   * in one transaction under the portfolio's row lock (so no create, move or delete slips in
   * between the check and the write). `ids` must be exactly the current set: a missing, extra,
   * repeated, or foreign id (another portfolio's, another user's) is 400 ORDER_MISMATCH and changes
   * nothing. Authorized as a structural write of the portfolio: a translator is refused.
   */
  async reorder(actor: Actor, portfolioId: string, ids: readonly string[]): Promise<Page<ChildJson>> {
    const wanted = ids.map((id) => id.toLowerCase());
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      await this.portfolios.authorizedParent(actor, portfolioId, 'write', tx);
      if (new Set(wanted).size !== wanted.length)
        throw contentErrors.orderMismatch(this.resource.path, 'an id is listed twice');
      const current = new Set(await this.repo.idsOf(portfolioId, tx));
      if (wanted.some((id) => !current.has(id)))
        throw contentErrors.orderMismatch(this.resource.path, 'an id is not one of them');
      if (wanted.length !== current.size) throw contentErrors.orderMismatch(this.resource.path, 'an id is missing');
      await this.repo.reorder(portfolioId, wanted, now, tx);
      await this.changes.touch(tx, [portfolioId]);
      const rows = await this.repo.listByPortfolio(portfolioId, { limit: this.resource.maxPerPortfolio }, tx);
      return { items: rows.map((row) => toChildJson(this.resource, row)), nextCursor: null };
    });
  }

  /** Splits a validated body into the definition's fields and the common ones. */
  private split(body: Record<string, unknown>) {
    const values: Record<string, unknown> = {};
    for (const name of Object.keys(this.resource.fields)) {
      if (Object.hasOwn(body, name)) values[name] = body[name];
    }
    return {
      values,
      position: typeof body['position'] === 'number' ? body['position'] : undefined,
      translations: body['translations'] as Translations | undefined,
    };
  }

  private checkRow(row: Record<string, unknown>): void {
    const problem = this.resource.check?.(row);
    if (problem) throw contentErrors.invalid(problem.path, problem.message);
  }

  private async checkCapacity(portfolioId: string, tx: Queryable): Promise<void> {
    const max = this.resource.maxPerPortfolio;
    if ((await this.repo.countByPortfolio(portfolioId, tx)) >= max) {
      throw contentErrors.limitReached(`${this.resource.path} per portfolio`, max);
    }
  }

  private async mustGet(id: string, tx: Queryable): Promise<ChildRow> {
    const row = await this.repo.get(id, tx);
    if (!row) throw new Error(`${this.resource.table} row vanished inside its transaction`);
    return row;
  }
}

export interface ContentDeps {
  db: Db;
  clock: Clock;
  kv: Kv;
  log: FastifyBaseLogger;
  /** The per-node public-read cache (PUBLIC_READ_CACHE_*). */
  cache: { maxBytes: number; maxStalenessMs: number };
  languages: PortfolioLanguages;
}

/** The module's services, built once per app. */
export class ContentService {
  readonly portfolios: PortfolioService;
  readonly children: ReadonlyMap<string, ChildService>;
  readonly public: PublicContentService;
  /** Every write that can change a public read tells it here (public-read/changes.ts). */
  readonly publicChanges: PublicReadChanges;

  constructor(deps: ContentDeps) {
    const { db, clock } = deps;
    const versions = new PublicVersionRepository(db);
    const cache = new PublicReadCache({
      maxBytes: deps.cache.maxBytes,
      maxStalenessMs: deps.cache.maxStalenessMs,
      now: () => clock.now().getTime(),
    });
    this.publicChanges = new PublicReadChanges(versions, cache, deps.kv, deps.log);
    this.portfolios = new PortfolioService(db, clock, new PortfolioRepository(db), this.publicChanges, deps.languages);
    const children = CHILD_RESOURCES.map(
      (resource) =>
        new ChildService(db, clock, resource, new ChildRepository(db, resource), this.portfolios, this.publicChanges),
    );
    this.children = new Map(children.map((c) => [c.resource.path, c]));
    this.public = new PublicContentService(
      new PublicReadRepository(db, CHILD_RESOURCES, PORTFOLIO_TRANSLATABLE),
      versions,
      cache,
      clock,
      new PublicSnapshotRepository(db),
    );
  }

  child(resource: ChildResource): ChildService {
    const service = this.children.get(resource.path);
    if (!service) throw new Error(`no service for ${resource.path}`);
    return service;
  }
}
