/**
 * Preview links: a shareable URL that shows one portfolio as the public read would if it were
 * published (drafts, private portfolios), until it expires or is revoked. The token is 256 random
 * bits, handed out once; only its SHA-256 is stored, so a database reader cannot use the links.
 * Revoking deletes the row, and deleting the portfolio deletes its links (FK cascade). Unknown,
 * malformed, revoked and expired tokens are the same 404. An expired link's row (dead already) is
 * kept PREVIEW_LINK_RETENTION_MS after its expiry, then deleted by the hourly housekeeping
 * (`deleteStale`, scheduled by the plugin) or when the portfolio gets a new link.
 *
 * Managing links is a structural write of the portfolio (`authorizeContent` through
 * authorizedParent): another user's portfolio is 404, a translator is 403. Listing needs read.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import { AppError } from '../../http/errors.js';
import { newId } from '../../platform/ids.js';
import type { AuditEventInput, RequestContext } from '../../security/audit/event.js';
import { AUDIT_ACTIONS } from '../../security/audit/actions.js';
import type { Actor } from '../../users/policy.js';
import { contentErrors } from '../errors.js';
import type { PublicPortfolio } from '../schema.js';
import type { ContentService } from '../service.js';
import { PreviewRepository, type PreviewLinkRow } from './repository.js';
import { PREVIEW_MAX_LIVE, type PreviewLink } from './schema.js';

/** How long an expired link's row is kept (for support: "this link existed and ran out then"). */
export const PREVIEW_LINK_RETENTION_MS = 30 * 86_400_000;

/** base64url of 32 random bytes: exactly 43 characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export const PREVIEW_PATH = '/api/public/preview/';

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export interface PreviewDeps {
  db: Db;
  clock: Clock;
  audit: { record(event: AuditEventInput, tx?: Queryable): Promise<void> };
  content: ContentService;
  /** The public base URL (no trailing slash), read when a link is made. */
  baseUrl: () => string;
}

function toJson(row: PreviewLinkRow): PreviewLink {
  return {
    id: row.id,
    createdAt: new Date(row.createdAt).toISOString(),
    expiresAt: new Date(row.expiresAt).toISOString(),
    createdBy: row.createdBy,
  };
}

export class PreviewService {
  readonly repo: PreviewRepository;

  constructor(private readonly o: PreviewDeps) {
    this.repo = new PreviewRepository(o.db);
  }

  async create(
    actor: Actor,
    portfolioId: string,
    expiresIn: number,
    context: RequestContext,
  ): Promise<{ id: string; url: string; expiresAt: string }> {
    const token = randomBytes(32).toString('base64url');
    const id = newId();
    const now = this.o.clock.now();
    const expiresAt = new Date(now.getTime() + expiresIn * 1000);
    await this.o.db.transaction(async (tx) => {
      // The portfolio row stays locked until commit, so concurrent creates cannot pass the cap.
      await this.o.content.portfolios.authorizedParent(actor, portfolioId, 'write', tx);
      await this.repo.deleteExpired(portfolioId, new Date(now.getTime() - PREVIEW_LINK_RETENTION_MS), tx);
      if ((await this.repo.listLive(portfolioId, now, tx)).length >= PREVIEW_MAX_LIVE) {
        throw contentErrors.limitReached('live preview links per portfolio', PREVIEW_MAX_LIVE);
      }
      await this.repo.create(
        { id, portfolioId, tokenHash: hashToken(token), createdBy: actor.userId, createdAt: now, expiresAt },
        tx,
      );
      await this.record(
        actor,
        AUDIT_ACTIONS.previewLinkCreated,
        id,
        { portfolioId, expiresAt: expiresAt.toISOString() },
        context,
        tx,
      );
    });
    return { id, url: `${this.o.baseUrl()}${PREVIEW_PATH}${token}`, expiresAt: expiresAt.toISOString() };
  }

  /** Housekeeping: deletes links that expired more than PREVIEW_LINK_RETENTION_MS ago; how many. */
  async deleteStale(): Promise<number> {
    return this.repo.deleteExpiredBefore(new Date(this.o.clock.now().getTime() - PREVIEW_LINK_RETENTION_MS));
  }

  async list(actor: Actor, portfolioId: string): Promise<{ items: PreviewLink[] }> {
    await this.o.content.portfolios.authorizedParent(actor, portfolioId, 'read');
    return { items: (await this.repo.listLive(portfolioId, this.o.clock.now())).map(toJson) };
  }

  async revoke(actor: Actor, portfolioId: string, linkId: string, context: RequestContext): Promise<void> {
    await this.o.db.transaction(async (tx) => {
      await this.o.content.portfolios.authorizedParent(actor, portfolioId, 'write', tx);
      const row = await this.repo.delete(portfolioId, linkId, tx);
      if (!row) throw contentErrors.notFound('Preview link');
      await this.record(actor, AUDIT_ACTIONS.previewLinkRevoked, linkId, { portfolioId }, context, tx);
    });
  }

  /** The preview a token shows, or the one 404 for every kind of bad token. */
  async read(token: string, lang: string | undefined, accepted: readonly string[]): Promise<PublicPortfolio> {
    const portfolioId = TOKEN_PATTERN.test(token)
      ? await this.repo.portfolioOf(hashToken(token), this.o.clock.now())
      : undefined;
    if (!portfolioId) throw contentErrors.notFound('Preview');
    try {
      return await this.o.content.public.preview(portfolioId, lang, accepted);
    } catch (err) {
      // The portfolio went (or its owner was disabled) between the two reads: the same 404.
      if (err instanceof AppError && err.code === 'NOT_FOUND') throw contentErrors.notFound('Preview');
      throw err;
    }
  }

  private async record(
    actor: Actor,
    action: string,
    linkId: string,
    metadata: Record<string, unknown>,
    context: RequestContext,
    tx: Queryable,
  ): Promise<void> {
    await this.o.audit.record(
      {
        action,
        actor: actor.userId,
        outcome: 'success',
        target: { type: 'preview_link', id: linkId },
        metadata,
        ...context,
      },
      tx,
    );
  }
}
