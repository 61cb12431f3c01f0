/**
 * Delivery: an available file's metadata, its signed links (S3 presigned when the store serves
 * objects itself, otherwise our own signature), serving a link through the integrity check, the
 * public read's media, and a user's delete. Only `available` files are ever linked or served.
 */
import path from 'node:path';
import type { Readable } from 'node:stream';
import { hrefOf } from '../../config/public-url.js';
import { canonicalLanguageTag } from '../../content/languages/tags.js';
import { pgErrorCode, UNIQUE_VIOLATION } from '../../platform/db/index.js';
import { AUDIT_ACTIONS } from '../audit/actions.js';
import { AppError } from '../../http/errors.js';
import { authorizeContent, type Actor } from '../../users/policy.js';
import type { RequestContext } from '../audit/event.js';
import { uploadErrors } from './errors.js';
import { VerifyingStream, type IntegrityError } from './integrity.js';
import {
  authorizedParent,
  mustGet,
  PUBLIC_MEDIA_LIMIT,
  toMediaJson,
  type MediaJson,
  type MediaParent,
  type PublicMedia,
  type UploadServiceOptions,
} from './media.js';
import type { UploadPipeline } from './pipeline.js';
import type { MediaRepository, MediaRow, MediaUpdate, StoredVariant } from './repository.js';
import { MAX_URL_TTL, type Disposition, type Variant } from './signing.js';
import { contentDisposition } from './types.js';

export interface LinkOptions {
  variant?: Variant | undefined;
  disposition?: Disposition | undefined;
  ttl?: number | undefined;
  /**
   * Public payloads: the link is the same for every request within half its lifetime (signed as
   * of the start of that window), so the payload's bytes and ETag stay put and caches can
   * revalidate; it still stays valid for at least half the lifetime after it is handed out.
   */
  stable?: boolean | undefined;
}

/** What PATCH /api/media/:id may change. */
export interface MediaDescription {
  language?: string | null | undefined;
  alt?: string | undefined;
  caption?: string | undefined;
  translations?: Record<string, { alt?: string; caption?: string }> | undefined;
}

export class MediaDelivery {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly o: UploadServiceOptions,
    private readonly repo: MediaRepository,
    private readonly pipeline: UploadPipeline,
  ) {}

  /** Waits for background work started by requests (integrity quarantines); for tests and shutdown. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.o.log?.warn({ err }, 'uploads: background task failed'));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private async readable(actor: Actor, id: string, action: 'read' | 'write'): Promise<MediaRow> {
    const row = await this.repo.get(id);
    authorizeContent(actor, action, row, 'Media');
    return row;
  }

  // ---- reads ------------------------------------------------------------------------------

  async get(actor: Actor, id: string): Promise<MediaJson> {
    return toMediaJson(await this.readable(actor, id, 'read'));
  }

  async list(
    actor: Actor,
    parent: MediaParent,
    parentId: string,
    page: { limit: number; after?: string | undefined },
  ): Promise<MediaRow[]> {
    await authorizedParent(this.repo, actor, 'read', parent, parentId);
    const key = { portfolio: 'portfolioId', project: 'projectId', section: 'sectionId', experience: 'experienceId' }[
      parent
    ];
    return this.repo.listByParent({ [key]: parentId, ...page });
  }

  // ---- describing -------------------------------------------------------------------------

  /**
   * Changes a medium's language, alt text and caption (and their translations). The owner, an
   * editor or an admin may change anything; a translator only `translations.<their languages>`
   * (authorizeContent with the change). Every language named must be enabled, and stays so until
   * commit. A default resume moved to a language that already has one is a 409.
   */
  async describe(
    actor: Actor,
    id: string,
    change: MediaDescription,
    context: Partial<RequestContext> = {},
  ): Promise<MediaRow> {
    const languages = this.o.languages;
    const named = [...(change.language ? [change.language] : []), ...Object.keys(change.translations ?? {})];
    try {
      return await this.o.db.transaction(async (tx) => {
        const row = await this.repo.get(id, tx, { forUpdate: true });
        authorizeContent(actor, 'write', row, 'Media', change as Record<string, unknown>);
        if (named.length > 0 && languages) {
          const enabled = new Set(await languages.lockEnabled(named, tx));
          const missing = named.find((c) => !enabled.has(c));
          if (missing !== undefined)
            throw uploadErrors.languageNotEnabled(
              missing === change.language ? 'body/language' : `body/translations/${missing}`,
              missing,
            );
        }
        const fields: MediaUpdate = {
          ...(change.language !== undefined ? { language: change.language } : {}),
          ...(change.alt !== undefined ? { alt: change.alt } : {}),
          ...(change.caption !== undefined ? { caption: change.caption } : {}),
          ...(change.translations !== undefined ? { translations: change.translations } : {}),
        };
        await this.repo.update(id, fields, this.o.clock.now(), tx);
        await this.o.audit.record(
          {
            action: AUDIT_ACTIONS.mediaUpdated,
            actor: actor.userId,
            outcome: 'success',
            target: { type: 'media', id },
            ...context,
            metadata: { portfolioId: row.portfolioId, fields: Object.keys(fields).sort() },
          },
          tx,
        );
        const updated = await this.repo.get(id, tx);
        if (!updated) throw uploadErrors.notFound();
        return updated;
      });
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) throw uploadErrors.defaultResumeConflict();
      throw err;
    }
  }

  // ---- links and serving ------------------------------------------------------------------

  /** Picks the variant and disposition a link may grant: documents are only ever attachments. */
  private grantFor(
    row: MediaRow,
    variant: Variant | undefined,
    disposition: Disposition | undefined,
  ): { variant: Variant; disposition: Disposition; stored: StoredVariant } {
    const chosen: Variant = variant ?? (row.kind === 'image' ? 'display' : 'original');
    const stored = row.variants[chosen];
    if (!stored) throw new AppError(400, 'MEDIA_VARIANT_UNKNOWN', 'Bad request', `This file has no ${chosen} variant`);
    const disp: Disposition = row.kind === 'image' ? (disposition ?? 'inline') : 'attachment';
    return { variant: chosen, disposition: disp, stored };
  }

  /** A signed link for an available file (S3 presigned when the store serves objects itself). */
  async link(
    actor: Actor | null,
    id: string,
    options: LinkOptions,
    preloaded?: MediaRow,
  ): Promise<{ url: string; expiresAt: string }> {
    const row = preloaded ?? (actor ? await this.readable(actor, id, 'read') : await mustGet(this.repo, id));
    if (row.status !== 'available') throw uploadErrors.notAvailable(row.status);
    const grant = this.grantFor(row, options.variant, options.disposition);
    const ttl = Math.min(options.ttl ?? this.o.settings.urlTtl, MAX_URL_TTL);
    let now = this.o.clock.now();
    if (options.stable) {
      const window = Math.max(1, Math.floor(ttl / 2));
      now = new Date(Math.floor(now.getTime() / 1000 / window) * window * 1000);
    }
    const expires = Math.floor(now.getTime() / 1000) + ttl;
    const expiresAt = new Date(expires * 1000).toISOString();
    if (this.o.store.presignGet) {
      const url = await this.o.store.presignGet(grant.stored.key, {
        expiresIn: ttl,
        contentDisposition: contentDisposition(grant.disposition, downloadName(row, grant.variant)),
        contentType: grant.stored.contentType,
        now,
      });
      return { url, expiresAt };
    }
    const query = new URLSearchParams(
      this.o.signer.sign({ mediaId: row.id, variant: grant.variant, disposition: grant.disposition, expires }),
    );
    const url = new URL(`/api/media/${row.id}/content?${query.toString()}`, hrefOf(this.o.settings.publicUrl));
    return { url: url.toString(), expiresAt };
  }

  /**
   * Serves a signed link: the signature is checked first (403/410), then the file must be
   * available (otherwise the same 404 as a missing one). The body streams through the integrity
   * check; a mismatch cuts the response and quarantines the file.
   */
  async open(
    id: string,
    query: Record<string, unknown>,
  ): Promise<{ stream: Readable; headers: Record<string, string> }> {
    const grant = this.o.signer.verify(id, query, Math.floor(this.o.clock.now().getTime() / 1000));
    const row = await this.repo.get(id);
    if (!row || row.status !== 'available') throw uploadErrors.notFound();
    const stored = row.variants[grant.variant];
    if (!stored) throw uploadErrors.notFound();
    // A document is an attachment whatever the link says (links for documents are never inline anyway).
    const disposition: Disposition = row.kind === 'image' ? grant.disposition : 'attachment';
    const body = await this.o.store.get(stored.key);
    const verifying = new VerifyingStream({ sha256: stored.sha256, size: stored.size }, (err) => {
      this.track(this.onIntegrityFailure(row, stored, err));
    });
    body.on('error', (err) => verifying.destroy(err));
    const remaining = Math.max(0, grant.expires - Math.floor(this.o.clock.now().getTime() / 1000));
    return {
      stream: body.pipe(verifying),
      headers: {
        'content-type': stored.contentType,
        'content-length': String(stored.size),
        'content-disposition': contentDisposition(disposition, downloadName(row, grant.variant)),
        'x-content-type-options': 'nosniff',
        'content-security-policy':
          "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'",
        'cross-origin-resource-policy': 'cross-origin',
        'cache-control': `private, max-age=${Math.min(remaining, MAX_URL_TTL)}`,
        etag: `"${stored.sha256}"`,
      },
    };
  }

  private async onIntegrityFailure(row: MediaRow, stored: StoredVariant, err: IntegrityError): Promise<void> {
    this.o.log?.warn(
      { mediaId: row.id, key: stored.key, expected: err.expected, actual: err.actual },
      'uploads: stored bytes changed',
    );
    const current = await this.repo.get(row.id);
    if (!current || current.status !== 'available') return;
    await this.pipeline.quarantine(current, null, 'integrity', {
      detail: `variant ${stored.key}: expected sha256 ${err.expected.sha256}, read ${err.actual.sha256}`,
    });
  }

  // ---- deletes ----------------------------------------------------------------------------

  /** Deletes a file and its stored objects (owner, editor or admin). */
  async delete(actor: Actor, id: string, context: Partial<RequestContext> = {}, reason?: string): Promise<void> {
    const row = await this.readable(actor, id, 'write');
    await this.pipeline.remove(row, actor.userId, context, reason);
  }

  // ---- public read ------------------------------------------------------------------------

  /**
   * The public resume link: the available default resume of a published, public portfolio (of an
   * enabled owner) for `lang`, then along its fallback chain, then the site default language, then
   * a language-neutral one. The same 404 as the public read when the portfolio is not visible.
   */
  async publicResume(
    portfolioId: string,
    lang: string | undefined,
  ): Promise<{ url: string; expiresAt: string } | undefined> {
    const languages = this.o.languages;
    const chain: string[] = [];
    if (languages) {
      const tag = lang === undefined ? undefined : canonicalLanguageTag(lang);
      if (tag !== undefined) chain.push(...(await languages.fallbackChain(tag)));
      chain.push(await languages.defaultLanguage());
    }
    const row = await this.repo.defaultResume(portfolioId, chain);
    if (!row) return undefined;
    return this.link(null, row.id, { disposition: 'attachment' }, row);
  }

  /** Available media of a published portfolio, each with a fresh signed link. */
  async publicMedia(portfolioId: string): Promise<PublicMedia[]> {
    return this.publicMediaOf(await this.repo.listAvailableByPortfolio(portfolioId, PUBLIC_MEDIA_LIMIT));
  }

  /** The public payload's media items for rows already read (the public read's one statement). */
  async publicMediaOf(rows: readonly MediaRow[]): Promise<PublicMedia[]> {
    const out: PublicMedia[] = [];
    for (const row of rows) {
      const main = await this.link(null, row.id, { stable: true }, row);
      const thumb = row.variants.thumbnail
        ? await this.link(null, row.id, { variant: 'thumbnail', stable: true }, row)
        : null;
      const stored = row.variants.display ?? row.variants.original;
      const resolved = row as MediaRow & { altText?: unknown; captionText?: unknown };
      out.push({
        id: row.id,
        projectId: row.projectId,
        sectionId: row.sectionId ?? null,
        experienceId: row.experienceId ?? null,
        kind: row.kind,
        category: row.category,
        isDefaultResume: row.isDefaultResume,
        language: row.language ?? null,
        alt: typeof resolved.altText === 'string' ? resolved.altText : (row.alt ?? ''),
        caption: typeof resolved.captionText === 'string' ? resolved.captionText : (row.caption ?? ''),
        name: row.originalName,
        contentType: stored?.contentType ?? 'application/octet-stream',
        width: row.width,
        height: row.height,
        url: main.url,
        thumbnailUrl: thumb?.url ?? null,
        expiresAt: main.expiresAt,
      });
    }
    return out;
  }
}

/** The name a download is saved as: the thumbnail gets `-thumbnail` before its extension. */
function downloadName(row: MediaRow, variant: Variant): string {
  if (variant !== 'thumbnail') return row.originalName;
  const ext = path.extname(row.originalName);
  return `${row.originalName.slice(0, row.originalName.length - ext.length)}-thumbnail${ext}`;
}
