/**
 * The reference model of the public read: the six-query implementation it replaced (the
 * portfolio, then each of the five child lists, then the media source), kept here verbatim in
 * its logic so the one-statement read (PublicReadRepository) can be held to it by a property
 * test. Test support only: nothing in src/ imports this.
 */
import { CategoryRepository } from '../../../src/content/categories/repository.js';
import { LanguageRepository } from '../../../src/content/languages/repository.js';
import { declaredChain } from '../../../src/content/languages/service.js';
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
  localize,
  readChain,
  negotiateLanguage,
  type Translations,
} from '../../../src/content/translations.js';

const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString());

export class SixQueryPublicRead {
  private readonly portfolios: PortfolioRepository;
  private readonly categories: CategoryRepository;
  private readonly languages: LanguageRepository;
  private readonly children: { resource: (typeof CHILD_RESOURCES)[number]; repo: ChildRepository }[];

  constructor(
    db: Db,
    private readonly mediaSource: ((portfolioId: string) => Promise<unknown[]>) | null,
  ) {
    this.portfolios = new PortfolioRepository(db);
    this.categories = new CategoryRepository(db);
    this.languages = new LanguageRepository(db);
    this.children = CHILD_RESOURCES.map((resource) => ({ resource, repo: new ChildRepository(db, resource) }));
  }

  async getBySlug(slug: string, lang: string | undefined, category?: string): Promise<Record<string, unknown>> {
    const row = SLUG_PATTERN.test(slug) ? await this.portfolios.getBySlug(slug) : undefined;
    return this.render(row, lang, category);
  }

  async getDefault(lang: string | undefined, category?: string): Promise<Record<string, unknown>> {
    return this.render(await this.portfolios.getDefault(), lang, category);
  }

  private async render(
    row: PortfolioRow | undefined,
    lang: string | undefined,
    category?: string,
  ): Promise<Record<string, unknown>> {
    if (!row || !row.published || row.visibility !== 'public')
      throw new AppError(404, 'NOT_FOUND', 'Not found', 'Portfolio not found');
    const lists = await Promise.all(
      this.children.map(async (child) => ({
        child,
        // An unpublished row of a publishable kind (projects) is not in the public read at all.
        rows: (await child.repo.listByPortfolio(row.id, { limit: child.resource.maxPerPortfolio })).filter(
          (r) => !child.resource.publishable || r['published'] === true,
        ),
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
    // The site languages: the declared fallbacks of the read's language, and the site default.
    const siteLanguages = await this.languages.list();
    const siteDefault = siteLanguages.find((l) => l.isDefault)?.code ?? 'en';
    const declared = declaredChain(siteLanguages, language);
    const chain = readChain(language, row.defaultLanguage, declared, siteDefault);
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
    // Categories: site-wide, their plain names in the site default language, so their chain is
    // the read's language relative to that one.
    const categoryChain = readChain(language, siteDefault, declared, siteDefault);
    const categoriesOf = async (ids: unknown) => {
      const out: Record<string, unknown>[] = [];
      for (const id of (ids as string[] | undefined) ?? []) {
        const k = await this.categories.get(id);
        if (!k) continue;
        const ref = { id: k.id, code: k.code, typeCode: k.typeCode, name: k.name };
        out.push(localize(ref, ['name'], asTranslations(k.translations), categoryChain));
      }
      return out;
    };
    out['categories'] = await categoriesOf(row.categoryIds);
    const skillRows = lists.find((l) => l.child.resource.path === 'skills')?.rows ?? [];
    const sectionRows = lists.find((l) => l.child.resource.path === 'sections')?.rows ?? [];
    for (const { child, rows } of lists) {
      // Owner-only fields (publication state, schedule) are never in the public read.
      const names = Object.entries(child.resource.fields)
        .filter(([, f]) => !f.ownerOnly)
        .map(([name]) => name);
      const render = (r: ChildRow) => {
        const item: Record<string, unknown> = { id: r.id };
        for (const name of names) item[name] = r[name] ?? null;
        return localize(item, child.resource.translatable, childTranslations.get(r) ?? {}, chain);
      };
      const items: Record<string, unknown>[] = [];
      for (const r of rows) {
        // A project's sections are listed under it, not at the top.
        if (child.resource.path === 'sections' && r['projectId'] != null) continue;
        const item = render(r);
        if (child.resource.relations.includes('categoryIds')) item['categories'] = await categoriesOf(r['categoryIds']);
        if (child.resource.path === 'projects') {
          const codes = (item['categories'] as { code: string }[]).map((c) => c.code);
          if (category && !codes.includes(category.toLowerCase())) continue;
          item['linkedSkills'] = ((r['skillIds'] as string[] | undefined) ?? []).flatMap((id) => {
            const s = skillRows.find((x) => x.id === id);
            if (!s) return [];
            const named = localize({ name: s['name'] }, ['name'], childTranslations.get(s) ?? {}, chain);
            return [{ id: s.id, name: named.name, type: s['type'], level: s['level'] ?? null }];
          });
          const sectionsChild = lists.find((l) => l.child.resource.path === 'sections')!.child;
          const sectionNames = Object.entries(sectionsChild.resource.fields)
            .filter(([, f]) => !f.ownerOnly)
            .map(([name]) => name);
          item['sections'] = sectionRows
            .filter((x) => x['projectId'] === r.id)
            .map((x) => {
              const sec: Record<string, unknown> = { id: x.id };
              for (const name of sectionNames) sec[name] = x[name] ?? null;
              return localize(sec, sectionsChild.resource.translatable, childTranslations.get(x) ?? {}, chain);
            });
        }
        items.push(item);
      }
      out[child.resource.path] = items;
    }
    if (this.mediaSource) out['media'] = await this.mediaSource(row.id);
    return out;
  }
}
