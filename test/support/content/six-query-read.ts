/**
 * The reference model of the public read: the six-query implementation it replaced (the
 * portfolio, then each of the five child lists, then the media source), kept here verbatim in
 * its logic so the one-statement read (PublicReadRepository) can be held to it by a property
 * test. Test support only: nothing in src/ imports this.
 */
import { AppError } from '../../../src/http/errors.js';
import type { Db } from '../../../src/platform/db/index.js';
import {
  ChildRepository,
  PortfolioRepository,
  type ChildRow,
  type PortfolioRow,
} from '../../../src/content/repository.js';
import { CHILD_RESOURCES, PORTFOLIO_TRANSLATABLE, SLUG_PATTERN } from '../../../src/content/schema.js';
import {
  asTranslations,
  languageChain,
  localize,
  negotiateLanguage,
  type Translations,
} from '../../../src/content/translations.js';

const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString());

export class SixQueryPublicRead {
  private readonly portfolios: PortfolioRepository;
  private readonly children: { resource: (typeof CHILD_RESOURCES)[number]; repo: ChildRepository }[];

  constructor(
    db: Db,
    private readonly mediaSource: ((portfolioId: string) => Promise<unknown[]>) | null,
  ) {
    this.portfolios = new PortfolioRepository(db);
    this.children = CHILD_RESOURCES.map((resource) => ({ resource, repo: new ChildRepository(db, resource) }));
  }

  async getBySlug(slug: string, lang: string | undefined): Promise<Record<string, unknown>> {
    const row = SLUG_PATTERN.test(slug) ? await this.portfolios.getBySlug(slug) : undefined;
    return this.render(row, lang);
  }

  async getDefault(lang: string | undefined): Promise<Record<string, unknown>> {
    return this.render(await this.portfolios.getDefault(), lang);
  }

  private async render(row: PortfolioRow | undefined, lang: string | undefined): Promise<Record<string, unknown>> {
    if (!row || !row.published || row.visibility !== 'public')
      throw new AppError(404, 'NOT_FOUND', 'Not found', 'Portfolio not found');
    const lists = await Promise.all(
      this.children.map(async (child) => ({
        child,
        rows: await child.repo.listByPortfolio(row.id, { limit: child.resource.maxPerPortfolio }),
      })),
    );
    const translations = asTranslations(row.translations);
    const available = new Set<string>([row.defaultLanguage, ...Object.keys(translations)]);
    const childTranslations = new Map<ChildRow, Translations>();
    for (const { rows } of lists) {
      for (const r of rows) {
        const t = asTranslations(r.translations);
        childTranslations.set(r, t);
        for (const tag of Object.keys(t)) available.add(tag);
      }
    }
    const language = negotiateLanguage(lang, row.defaultLanguage, available);
    const chain = languageChain(language, row.defaultLanguage);
    const head = localize({ title: row.title, summary: row.summary }, PORTFOLIO_TRANSLATABLE, translations, chain);
    const out: Record<string, unknown> = {
      id: row.id,
      slug: row.slug,
      title: head.title,
      summary: head.summary,
      language,
      defaultLanguage: row.defaultLanguage,
      availableLanguages: [row.defaultLanguage, ...[...available].filter((t) => t !== row.defaultLanguage).sort()],
      updatedAt: iso(row.updatedAt),
    };
    for (const { child, rows } of lists) {
      const names = Object.keys(child.resource.fields);
      out[child.resource.path] = rows.map((r) => {
        const item: Record<string, unknown> = { id: r.id };
        for (const name of names) item[name] = r[name] ?? null;
        return localize(item, child.resource.translatable, childTranslations.get(r) ?? {}, chain);
      });
    }
    if (this.mediaSource) out['media'] = await this.mediaSource(row.id);
    return out;
  }
}
