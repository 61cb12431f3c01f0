/**
 * The only SQL of the uploads module. Every value is a $n parameter; column names come from this
 * file. Each method takes an optional transaction.
 */
import type { PublicReadChangesPort } from '../../content/public-read/changes.js';
import type { Queryable } from '../../platform/db/index.js';
import type { Category, MediaKind } from './types.js';

export type MediaStatus = 'staged' | 'validated' | 'scanned' | 'sanitised' | 'available' | 'quarantined' | 'rejected';

export interface StoredVariant {
  key: string;
  size: number;
  sha256: string;
  contentType: string;
  width?: number | null;
  height?: number | null;
}

export type Variants = Partial<Record<'display' | 'thumbnail' | 'original', StoredVariant>>;

export interface MediaRow {
  id: string;
  portfolioId: string;
  projectId: string | null;
  sectionId: string | null;
  experienceId: string | null;
  ownerId: string;
  uploadedBy: string | null;
  kind: MediaKind;
  category: Category;
  isDefaultResume: boolean;
  /** The site language it is for; null: every language. */
  language: string | null;
  /** Alt text and caption in the default language; `translations` holds the others. */
  alt: string;
  caption: string;
  translations: Record<string, { alt?: string; caption?: string }>;
  status: MediaStatus;
  statusReason: string | null;
  originalName: string;
  extension: string | null;
  declaredType: string | null;
  detectedType: string | null;
  size: number;
  sha256: string | null;
  width: number | null;
  height: number | null;
  variants: Variants;
  quarantineKey: string | null;
  scanVerdict: 'clean' | 'infected' | 'error' | null;
  scanSignature: string | null;
  scannerVersion: string | null;
  scannedAt: Date | null;
  scanAttempts: number;
  nextScanAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const SELECT = `m.id, m.portfolio_id as "portfolioId", m.project_id as "projectId", m.section_id as "sectionId",
  m.experience_id as "experienceId", p.owner_id as "ownerId", m.language, m.alt, m.caption, m.translations,
  m.uploaded_by as "uploadedBy", m.kind, m.category, m.is_default_resume as "isDefaultResume", m.status,
  m.status_reason as "statusReason", m.original_name as "originalName", m.extension, m.declared_type as "declaredType",
  m.detected_type as "detectedType", m.size::float8 as size, m.sha256, m.width, m.height, m.variants,
  m.quarantine_key as "quarantineKey", m.scan_verdict as "scanVerdict", m.scan_signature as "scanSignature",
  m.scanner_version as "scannerVersion", m.scanned_at as "scannedAt", m.scan_attempts as "scanAttempts",
  m.next_scan_at as "nextScanAt", m.created_at as "createdAt", m.updated_at as "updatedAt"`;
const FROM = 'media m join portfolios p on p.id = m.portfolio_id';

/** Updatable columns: field → column. */
const COLUMNS = {
  status: 'status',
  statusReason: 'status_reason',
  isDefaultResume: 'is_default_resume',
  language: 'language',
  alt: 'alt',
  caption: 'caption',
  translations: 'translations',
  extension: 'extension',
  declaredType: 'declared_type',
  detectedType: 'detected_type',
  size: 'size',
  sha256: 'sha256',
  width: 'width',
  height: 'height',
  variants: 'variants',
  quarantineKey: 'quarantine_key',
  scanVerdict: 'scan_verdict',
  scanSignature: 'scan_signature',
  scannerVersion: 'scanner_version',
  scannedAt: 'scanned_at',
  scanAttempts: 'scan_attempts',
  nextScanAt: 'next_scan_at',
} as const;
/**
 * The public read's language chain as SQL expressions of its statement: the read's language, the
 * translation entries it tries in order (`steps`: readChain in src/content/translations.ts, NULL
 * past its end) and the portfolio's default language, the language of the plain fields.
 */
export interface MediaLanguageChain {
  language: string;
  steps: readonly string[];
  defaultLanguage: string;
}

export type MediaUpdate = { [K in keyof typeof COLUMNS]?: MediaRow[K] };

export interface MediaCreate {
  id: string;
  portfolioId: string;
  projectId: string | null;
  sectionId: string | null;
  experienceId: string | null;
  language: string | null;
  uploadedBy: string;
  kind: MediaKind;
  category: Category;
  isDefaultResume: boolean;
  originalName: string;
  declaredType: string;
  extension: string;
  now: Date;
}

/**
 * Media are part of the public read: every write here raises the portfolio's content version in
 * the same statement (a data-modifying CTE, so even a write outside a transaction moves both
 * together) and announces it once committed. Without `changes` (the notifier's read-only copy,
 * tests) writes are plain.
 */
export class MediaRepository {
  constructor(
    private readonly db: Queryable,
    private readonly changes?: PublicReadChangesPort,
  ) {}

  /** Runs a media write that returns `portfolio_id`, raising those portfolios' versions with it. */
  private async write(tx: Queryable, sql: string, values: readonly unknown[]): Promise<void> {
    if (!this.changes) {
      await tx.query(sql, values);
      return;
    }
    const rows = await tx.query<{ id: string }>(
      `with changed as (${sql} returning portfolio_id), bumped as (${this.changes.bumpClause('select portfolio_id from changed')})
       select id from bumped`,
      values,
    );
    this.changes.announce(
      tx,
      rows.map((r) => r.id),
    );
  }

  async get(id: string, tx: Queryable = this.db, options: { forUpdate?: boolean } = {}): Promise<MediaRow | undefined> {
    const rows = await tx.query<MediaRow>(
      `select ${SELECT} from ${FROM} where m.id = $1${options.forUpdate ? ' for update of m' : ''}`,
      [id],
    );
    return rows[0];
  }

  async create(m: MediaCreate, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      `insert into media (id, portfolio_id, project_id, uploaded_by, kind, category, is_default_resume, status,
         original_name, declared_type, extension, created_at, updated_at, section_id, experience_id, language)
       values ($1, $2, $3, $4, $5, $6, false, 'staged', $7, $8, $9, $10, $10, $11, $12, $13)`,
      [
        m.id,
        m.portfolioId,
        m.projectId,
        m.uploadedBy,
        m.kind,
        m.category,
        m.originalName,
        m.declaredType,
        m.extension,
        m.now,
        m.sectionId,
        m.experienceId,
        m.language,
      ],
    );
  }

  async update(id: string, fields: MediaUpdate, now: Date, tx: Queryable = this.db): Promise<void> {
    const sets: string[] = [];
    const values: unknown[] = [id];
    for (const [field, column] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, string][]) {
      if (!Object.hasOwn(fields, field)) continue;
      const value = fields[field];
      values.push(field === 'variants' || field === 'translations' ? JSON.stringify(value) : value);
      sets.push(`${column} = $${values.length}`);
    }
    values.push(now);
    sets.push(`updated_at = $${values.length}`);
    await this.write(tx, `update media set ${sets.join(', ')} where id = $1`, values);
  }

  /**
   * Claims a quarantined row for a retry: moves its next attempt to `leaseUntil` only if nobody
   * else did since it was read, so two nodes never scan the same file at once.
   */
  async claimRetry(id: string, seen: Date | null, leaseUntil: Date, tx: Queryable = this.db): Promise<boolean> {
    const rows = await tx.query<{ id: string }>(
      `update media set next_scan_at = $3 where id = $1 and status = 'quarantined' and next_scan_at is not distinct from $2 returning id`,
      [id, seen, leaseUntil],
    );
    return rows.length === 1;
  }

  /** Clears the default resume of a portfolio in one language (null: the language-neutral one). */
  async clearDefaultResume(
    portfolioId: string,
    language: string | null,
    now: Date,
    tx: Queryable = this.db,
  ): Promise<void> {
    await this.write(
      tx,
      `update media set is_default_resume = false, updated_at = $2
       where portfolio_id = $1 and is_default_resume and language is not distinct from $3::text`,
      [portfolioId, now, language],
    );
  }

  /**
   * The available default resume of a portfolio for the first language of `chain` that has one,
   * then the language-neutral one (language null); undefined when none.
   */
  async defaultResume(
    portfolioId: string,
    chain: readonly string[],
    tx: Queryable = this.db,
  ): Promise<MediaRow | undefined> {
    const rows = await tx.query<MediaRow>(
      `select ${SELECT} from ${FROM}
       where m.portfolio_id = $1 and m.is_default_resume and m.status = 'available'
         and (m.language is null or lower(m.language) = any($2::text[]))
       order by coalesce(array_position($2::text[], lower(m.language)), 1000000), m.id limit 1`,
      [portfolioId, chain.map((c) => c.toLowerCase())],
    );
    return rows[0];
  }

  async delete(id: string, tx: Queryable = this.db): Promise<void> {
    await this.write(tx, 'delete from media where id = $1', [id]);
  }

  /** Quarantined rows whose retry is due (scan failed or scanner unavailable). */
  async listRetryDue(now: Date, limit: number, tx: Queryable = this.db): Promise<MediaRow[]> {
    return tx.query<MediaRow>(
      `select ${SELECT} from ${FROM} where m.status = 'quarantined' and m.next_scan_at is not null and m.next_scan_at <= $1
       order by m.next_scan_at limit $2`,
      [now, limit],
    );
  }

  /** Available media last scanned with another signature version (or never). */
  async listStale(version: string, limit: number, tx: Queryable = this.db): Promise<MediaRow[]> {
    return tx.query<MediaRow>(
      `select ${SELECT} from ${FROM} where m.status = 'available' and (m.scanner_version is distinct from $1)
       order by m.id limit $2`,
      [version, limit],
    );
  }

  async listQuarantined(
    query: { limit: number; after?: string | undefined },
    tx: Queryable = this.db,
  ): Promise<MediaRow[]> {
    return tx.query<MediaRow>(
      `select ${SELECT} from ${FROM} where m.status = 'quarantined' and ($1::uuid is null or m.id > $1::uuid) order by m.id limit $2`,
      [query.after ?? null, query.limit],
    );
  }

  async listAvailableByPortfolio(portfolioId: string, limit: number, tx: Queryable = this.db): Promise<MediaRow[]> {
    return tx.query<MediaRow>(
      `select ${SELECT} from ${FROM} where m.portfolio_id = $1 and m.status = 'available' order by m.id limit $2`,
      [portfolioId, limit],
    );
  }

  /**
   * The same list as listAvailableByPortfolio, as one JSON value inside another statement (the
   * public read): a parenthesised subquery given the SQL expression of the portfolio id, which
   * must come from code (e.g. `pf.id`), never from a request. Read it back with mediaRowsFromJson.
   */
  static availableByPortfolioJson(portfolioIdExpression: string, limit: number, language?: MediaLanguageChain): string {
    const column = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/;
    if (!column.test(portfolioIdExpression)) throw new Error('bad portfolio id expression');
    if (language && ![language.language, ...language.steps, language.defaultLanguage].every((e) => column.test(e)))
      throw new Error('bad language chain expression');
    if (!language) {
      return `(select coalesce(json_agg(x order by x.id), '[]'::json) from (
      select ${SELECT} from ${FROM} where m.portfolio_id = ${portfolioIdExpression} and m.status = 'available'
      order by m.id limit ${Math.trunc(limit)}) x)`;
    }
    // The rank of a medium's language in the read's chain: 0 the read's language, then each step
    // of the chain, then the portfolio's default language; null when it is not in the chain.
    const ranked = [language.language, ...language.steps, language.defaultLanguage];
    const rank = (col: string) =>
      `case ${ranked.map((tag, i) => `when lower(${col}) = lower(${tag}) then ${i}`).join(' ')} end`;
    const text = (tag: string, field: 'alt' | 'caption') =>
      `case when jsonb_typeof(m.translations -> ${tag} -> '${field}') = 'string' then nullif(m.translations -> ${tag} ->> '${field}', '') end`;
    const resolved = (field: 'alt' | 'caption') =>
      `coalesce(${language.steps.map((tag) => text(tag, field)).join(', ')}, m.${field})`;
    // Media with no language are always there; media with one only for the best-ranked language
    // that has any media of the same parent and category.
    return `(select coalesce(json_agg(x order by x.id), '[]'::json) from (
      select ${SELECT}, ${resolved('alt')} as "altText", ${resolved('caption')} as "captionText"
      from ${FROM} where m.portfolio_id = ${portfolioIdExpression} and m.status = 'available'
        and (m.language is null or (${rank('m.language')} is not null and not exists (
          select 1 from media o where o.portfolio_id = m.portfolio_id and o.status = 'available'
            and o.category = m.category and o.project_id is not distinct from m.project_id
            and o.section_id is not distinct from m.section_id and o.experience_id is not distinct from m.experience_id
            and o.language is not null and ${rank('o.language')} < ${rank('m.language')})))
      order by m.id limit ${Math.trunc(limit)}) x)`;
  }

  async listByParent(
    query: {
      portfolioId?: string | undefined;
      projectId?: string | undefined;
      sectionId?: string | undefined;
      experienceId?: string | undefined;
      limit: number;
      after?: string | undefined;
    },
    tx: Queryable = this.db,
  ): Promise<MediaRow[]> {
    return tx.query<MediaRow>(
      `select ${SELECT} from ${FROM}
       where ($1::uuid is null or m.portfolio_id = $1::uuid) and ($2::uuid is null or m.project_id = $2::uuid)
         and ($3::uuid is null or m.id > $3::uuid)
         and ($5::uuid is null or m.section_id = $5::uuid) and ($6::uuid is null or m.experience_id = $6::uuid)
       order by m.id limit $4`,
      [
        query.portfolioId ?? null,
        query.projectId ?? null,
        query.after ?? null,
        query.limit,
        query.sectionId ?? null,
        query.experienceId ?? null,
      ],
    );
  }

  /** The owner of a project's portfolio, for authorization before a byte is read. */
  async projectParent(
    projectId: string,
    tx: Queryable = this.db,
  ): Promise<{ portfolioId: string; ownerId: string } | undefined> {
    const rows = await tx.query<{ portfolioId: string; ownerId: string }>(
      `select p.id as "portfolioId", p.owner_id as "ownerId" from projects j join portfolios p on p.id = j.portfolio_id where j.id = $1`,
      [projectId],
    );
    return rows[0];
  }

  /** The owner of a section's or an experience's portfolio, for authorization before a byte is read. */
  async childParent(
    table: 'sections' | 'experiences',
    id: string,
    tx: Queryable = this.db,
  ): Promise<{ portfolioId: string; ownerId: string } | undefined> {
    const from = table === 'sections' ? 'sections' : 'experiences';
    const rows = await tx.query<{ portfolioId: string; ownerId: string }>(
      `select p.id as "portfolioId", p.owner_id as "ownerId" from ${from} j join portfolios p on p.id = j.portfolio_id where j.id = $1`,
      [id],
    );
    return rows[0];
  }

  async portfolioOwner(
    portfolioId: string,
    tx: Queryable = this.db,
  ): Promise<{ portfolioId: string; ownerId: string } | undefined> {
    const rows = await tx.query<{ portfolioId: string; ownerId: string }>(
      `select p.id as "portfolioId", p.owner_id as "ownerId" from portfolios p where p.id = $1`,
      [portfolioId],
    );
    return rows[0];
  }

  /** Admin user ids (for the infection notice). */
  async adminIds(tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `select u.id from users u join user_roles r on r.user_id = u.id where r.role = 'admin' and not u.disabled order by u.id limit 50`,
    );
    return rows.map((r) => r.id);
  }

  /** Who an infection notice goes to: those of `ids` that exist and are not disabled. */
  async noticeRecipients(
    ids: readonly string[],
    tx: Queryable = this.db,
  ): Promise<{ id: string; email: string; name: string }[]> {
    return tx.query<{ id: string; email: string; name: string }>(
      'select id, email, name from users where id = any($1::uuid[]) and not disabled',
      [ids],
    );
  }
}

/** MediaRow values read back from JSON (availableByPortfolioJson): times become Dates again. */
export function mediaRowsFromJson(value: unknown): MediaRow[] {
  if (!Array.isArray(value)) return [];
  const date = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? new Date(v) : null);
  return (value as Record<string, unknown>[]).map((r) => ({
    ...(r as unknown as MediaRow),
    scannedAt: date(r['scannedAt']),
    nextScanAt: date(r['nextScanAt']),
    createdAt: date(r['createdAt']) ?? new Date(NaN),
    updatedAt: date(r['updatedAt']) ?? new Date(NaN),
  }));
}
