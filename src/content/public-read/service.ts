/**
 * Anonymous reads. Only a portfolio that is published AND public, of an enabled owner, exists
 * here; every other case (missing, draft, private, malformed slug) is the same 404, so drafts
 * cannot be discovered. One statement per read (PublicReadRepository): the portfolio, its
 * children with the texts resolved for the language, and the available media. The prepared
 * answer is kept per node (cache.ts) until a write changes it.
 */
import { createHash } from 'node:crypto';
import { PreparedBody } from '../../http/http-cache.js';
import type { Clock } from '../../platform/clock.js';
import { contentErrors } from '../errors.js';
import {
  CHILD_RESOURCES,
  PublicPortfolio as PublicPortfolioSchema,
  SLUG_PATTERN,
  type PublicPortfolio,
} from '../schema.js';
import { iso } from '../service.js';
import { matchLanguage } from '../translations.js';
import type { CacheEntry, PublicReadCache } from './cache.js';
import type {
  PublicFilter,
  PublicReadFragment,
  PublicReadRepository,
  PublicReadRow,
  PublicSnapshotRepository,
  PublicTarget,
  PublicVersionRepository,
} from './repository.js';

/** The media part of the public read, provided by the uploads module (src/security/uploads). */
export interface PublicMediaSource {
  /** Subquery yielding the portfolio's available media as one JSON value (see PublicReadFragment). */
  select: PublicReadFragment;
  /** Turns that value into the payload's media items (signed links). */
  render(value: unknown): Promise<{ expiresAt: string }[]>;
  /** How long a signed link lives, seconds: a cached answer is rebuilt when half of it is left. */
  linkLifetime: number;
}

/** Turns a payload into the bytes the route sends (its response schema's serializer). */
export type Serialize = (payload: PublicPortfolio) => string | ArrayBuffer | Buffer;

export class PublicContentService {
  private media: PublicMediaSource | null = null;
  /** One database read per key at a time: a burst after an eviction waits for the same build. */
  private readonly building = new Map<string, Promise<CacheEntry>>();
  private readonly checking = new Map<CacheEntry, Promise<boolean>>();
  private renderFormat: string | null = null;

  constructor(
    readonly reads: PublicReadRepository,
    private readonly versions: PublicVersionRepository,
    readonly cache: PublicReadCache,
    private readonly clock: Clock,
    /** Stored answers (docs/PUBLIC_READ.md "Stored answers"); null: every miss renders. */
    readonly snapshots: PublicSnapshotRepository | null = null,
  ) {}

  setMediaSource(source: PublicMediaSource): void {
    this.reads.setMedia(source.select);
    this.media = source;
    this.renderFormat = null;
  }

  /**
   * What a stored answer's bytes depend on besides the data: the statement (media part
   * included) and the response schema the route serializes with. A node running other code
   * neither serves nor keeps another format's answers as its own.
   */
  get format(): string {
    // A word (a letter first): on PGlite the lookup is prepared only when its values are words.
    this.renderFormat ??= `f${createHash('sha256')
      .update(this.reads.statementText)
      .update('\n')
      .update(JSON.stringify(PublicPortfolioSchema))
      .digest('base64url')}`;
    return this.renderFormat;
  }

  /**
   * The prepared answer for a target in the language asked for: from this node's cache when its
   * version is known current, else read (one statement), serialized and kept.
   * `lang` (?lang=) is the primary selector; without it `accepted` (Accept-Language) picks.
   */
  async prepared(
    target: PublicTarget,
    lang: string | undefined,
    accepted: readonly string[],
    serialize: Serialize,
    filter: PublicFilter = {},
  ): Promise<CacheEntry> {
    if ('slug' in target && !SLUG_PATTERN.test(target.slug)) throw contentErrors.notFound('Portfolio');
    const key = cacheKey(target, lang, accepted, filter);
    const cached = this.cache.get(key);
    if (cached && (await this.stillCurrent(target, key, cached))) {
      this.cache.stats.hits++;
      return cached;
    }
    this.cache.stats.misses++;
    let build = this.building.get(key);
    if (!build) {
      build = this.build(target, key, lang, accepted, serialize, filter).finally(() => this.building.delete(key));
      this.building.set(key, build);
    }
    return build;
  }

  /** A public read as data (no cache): the same statement and rules as `prepared`. */
  async getBySlug(
    slug: string,
    lang: string | undefined,
    accepted: readonly string[] = [],
    filter: PublicFilter = {},
  ): Promise<PublicPortfolio> {
    if (!SLUG_PATTERN.test(slug)) throw contentErrors.notFound('Portfolio');
    return (await this.payload(await this.inLanguage({ slug }, lang, accepted, filter))).payload;
  }

  async getDefault(
    lang: string | undefined,
    accepted: readonly string[] = [],
    filter: PublicFilter = {},
  ): Promise<PublicPortfolio> {
    return (await this.payload(await this.inLanguage({ default: true }, lang, accepted, filter))).payload;
  }

  /**
   * What the public read would answer for this portfolio if it were published and public (a
   * preview link, src/content/preview/): the same statement and rendering, never from or into
   * this node's cache.
   */
  async preview(
    portfolioId: string,
    lang: string | undefined,
    accepted: readonly string[] = [],
  ): Promise<PublicPortfolio> {
    return (await this.payload(await this.inLanguage({ preview: portfolioId }, lang, accepted))).payload;
  }

  /** Within the staleness bound, yes; past it, only if the database still has the entry's version. */
  private async stillCurrent(target: PublicTarget, key: string, entry: CacheEntry): Promise<boolean> {
    if (!this.cache.needsCheck(entry)) return true;
    let check = this.checking.get(entry);
    if (!check) {
      this.cache.stats.checks++;
      check = this.versions
        .current(target)
        .then((now) => {
          const same = now !== undefined && now.id === entry.portfolioId && now.version === entry.version;
          if (same) this.cache.confirmed(entry);
          else this.cache.drop(key);
          return same;
        })
        .finally(() => this.checking.delete(entry));
      this.checking.set(entry, check);
    }
    return check;
  }

  private async build(
    target: PublicTarget,
    key: string,
    lang: string | undefined,
    accepted: readonly string[],
    serialize: Serialize,
    filter: PublicFilter,
  ): Promise<CacheEntry> {
    const generation = this.cache.begin();
    const selector = this.snapshots ? snapshotSelector(lang, accepted, filter) : null;
    if (selector !== null) {
      // One statement: which portfolio the target names, its version, and the stored answer
      // rendered from that version (if any). None: the same 404 the render would give.
      const stored = await this.snapshots!.lookup(target, selector, this.format);
      if (!stored) throw contentErrors.notFound('Portfolio');
      if (stored.body !== null) {
        const entry = this.entryOf(stored.id, stored.version, stored.body, stored.linksExpireAt ?? Infinity);
        // Served only while its links have half their lifetime left, as a cached entry.
        if (this.clock.now().getTime() < entry.expiresAt) {
          this.cache.stats.stored++;
          this.cache.store(key, entry, generation);
          return entry;
        }
      }
    }
    this.cache.stats.renders++;
    const row = await this.inLanguage(target, lang, accepted, filter);
    if (!row) throw contentErrors.notFound('Portfolio');
    const { payload, linksExpireAt } = await this.payload(row);
    const entry = this.entryOf(payload.id, row.version, serialize(payload), linksExpireAt);
    if (selector !== null) {
      // Kept under the language the read negotiated (a tag of the portfolio: bounded by its
      // content, not by what visitors ask), or NO_LANGUAGE for a read that asked for none. An older
      // render never replaces a newer one (the store compares versions). Not keeping it only
      // costs the next miss a render, so a failure here does not fail the read.
      await this.snapshots!.store({
        portfolioId: payload.id,
        selector: selector === NO_LANGUAGE ? NO_LANGUAGE : row.language.toLowerCase(),
        version: row.version,
        format: this.format,
        body: entry.body.bytes.toString('utf8'),
        linksExpireAt: Number.isFinite(linksExpireAt) ? linksExpireAt : null,
      }).catch(() => undefined);
    }
    this.cache.store(key, entry, generation);
    return entry;
  }

  /** A cache entry for bytes of `version`: trusted from now, ended when its links reach half their life. */
  private entryOf(
    portfolioId: string,
    version: string,
    body: string | ArrayBuffer | Buffer,
    linksExpireAt: number,
  ): CacheEntry {
    const halfLife = ((this.media?.linkLifetime ?? 0) * 1000) / 2;
    return {
      portfolioId,
      version,
      body: new PreparedBody(body),
      verifiedAt: this.clock.now().getTime(),
      expiresAt: Number.isFinite(linksExpireAt) ? linksExpireAt - halfLife : Infinity,
      linksExpireAt,
    };
  }

  /**
   * One read in the requested language. With Accept-Language preferences only, the first read
   * asks for the first preference; when it has none of it but a later preference matches a
   * language the row lists, a second read asks for that one.
   */
  private async inLanguage(
    target: PublicTarget | { preview: string },
    lang: string | undefined,
    accepted: readonly string[],
    filter: PublicFilter = {},
  ): Promise<PublicReadRow | undefined> {
    const read = (l: string | null) =>
      'preview' in target
        ? this.reads.preview(target.preview, l)
        : 'slug' in target
          ? this.reads.bySlug(target.slug, l, undefined, filter)
          : this.reads.byDefault(l, undefined, filter);
    const [first] = accepted;
    if (lang || first === undefined) return read(lang || null);
    const row = await read(first);
    if (!row) return row;
    const tags = [row.defaultLanguage, ...row.availableLanguages];
    for (const wanted of accepted) {
      const match = matchLanguage(wanted, tags);
      if (match !== undefined) return match === row.language ? row : read(match);
    }
    return row;
  }

  private async payload(row: PublicReadRow | undefined): Promise<{ payload: PublicPortfolio; linksExpireAt: number }> {
    if (!row) throw contentErrors.notFound('Portfolio');
    const out: Record<string, unknown> = {
      id: row.id,
      slug: row.slug,
      title: row.title,
      summary: row.summary,
      language: row.language,
      defaultLanguage: row.defaultLanguage,
      availableLanguages: row.availableLanguages,
      updatedAt: iso(row.updatedAt),
      categories: row.categories,
    };
    for (const resource of CHILD_RESOURCES) out[resource.path] = row[resource.path];
    let linksExpireAt = Infinity;
    if (this.media) {
      const media = await this.media.render(row.media);
      for (const m of media) linksExpireAt = Math.min(linksExpireAt, Date.parse(m.expiresAt));
      out['media'] = media;
    }
    return { payload: out as PublicPortfolio, linksExpireAt };
  }
}

/**
 * The cache key: the target and the language selector as the read sees it. Tags compare
 * case-insensitively everywhere in the read, so case is folded here too; `accepted` is already
 * bounded (acceptedLanguages keeps a few short tags), so a key stays small.
 */
function cacheKey(
  target: PublicTarget,
  lang: string | undefined,
  accepted: readonly string[],
  filter: PublicFilter = {},
): string {
  const where = 'slug' in target ? `s:${target.slug.toLowerCase()}` : 'default';
  const language = lang ? `l:${lang.toLowerCase()}` : `a:${accepted.join(',').toLowerCase()}`;
  // Category codes are lower-case; the read compares them so (bounded by PublicQuery's pattern).
  const category = filter.category ? `\nc:${filter.category.toLowerCase()}` : '';
  return `${where}\n${language}${category}`;
}

/**
 * The stored answer of a read that asked for no language. Never a language tag (they begin with a
 * letter), and a word, as every selector is (PGlite prepares the lookup only for words).
 */
export const NO_LANGUAGE = '0';

/**
 * Which stored answer a miss may use (docs/PUBLIC_READ.md "Stored answers"), or null when none is
 * kept for such reads: NO_LANGUAGE when none is asked for, else the tag asked for (?lang=, else the
 * first Accept-Language preference), lower-cased. Answers are stored under the language the read
 * negotiated, so a tag the portfolio carries finds its answer, and a tag it does not (or a later
 * Accept-Language preference) renders. A `?category=` read is not stored: visitors choose its code.
 */
function snapshotSelector(lang: string | undefined, accepted: readonly string[], filter: PublicFilter): string | null {
  if (filter.category) return null;
  const asked = lang || accepted[0];
  return asked ? asked.toLowerCase() : NO_LANGUAGE;
}
