/** The only SQL of preview links. Every value is a $n parameter; each method takes an optional transaction. */
import type { Queryable } from '../../platform/db/index.js';

export interface PreviewLinkRow {
  id: string;
  portfolioId: string;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date;
}

const SELECT = `id, portfolio_id as "portfolioId", created_by as "createdBy", created_at as "createdAt", expires_at as "expiresAt"`;

export class PreviewRepository {
  constructor(private readonly db: Queryable) {}

  async create(
    row: { id: string; portfolioId: string; tokenHash: string; createdBy: string; createdAt: Date; expiresAt: Date },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into preview_links (id, portfolio_id, token_hash, created_by, created_at, expires_at) values ($1, $2, $3, $4, $5, $6)`,
      [row.id, row.portfolioId, row.tokenHash, row.createdBy, row.createdAt, row.expiresAt],
    );
  }

  /** Drops the portfolio's links that expired at or before `before` (they are dead already). */
  async deleteExpired(portfolioId: string, before: Date, tx: Queryable = this.db): Promise<void> {
    await tx.query(`delete from preview_links where portfolio_id = $1 and expires_at <= $2`, [portfolioId, before]);
  }

  /** Housekeeping: every link that expired at or before `before`, in any portfolio; how many. */
  async deleteExpiredBefore(before: Date, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ id: string }>(`delete from preview_links where expires_at <= $1 returning id`, [
      before,
    ]);
    return rows.length;
  }

  /** The portfolio's live links, newest first. */
  async listLive(portfolioId: string, now: Date, tx: Queryable = this.db): Promise<PreviewLinkRow[]> {
    return tx.query<PreviewLinkRow>(
      `select ${SELECT} from preview_links where portfolio_id = $1 and expires_at > $2 order by created_at desc, id desc`,
      [portfolioId, now],
    );
  }

  /** Revoking deletes the row: the token then matches nothing. Returns the row it deleted. */
  async delete(portfolioId: string, id: string, tx: Queryable = this.db): Promise<PreviewLinkRow | undefined> {
    const rows = await tx.query<PreviewLinkRow>(
      `delete from preview_links where portfolio_id = $1 and id = $2 returning ${SELECT}`,
      [portfolioId, id],
    );
    return rows[0];
  }

  /** The portfolio a live token (by its hash) previews, or undefined. */
  async portfolioOf(tokenHash: string, now: Date, tx: Queryable = this.db): Promise<string | undefined> {
    const rows = await tx.query<{ portfolioId: string }>(
      `select portfolio_id as "portfolioId" from preview_links where token_hash = $1 and expires_at > $2`,
      [tokenHash, now],
    );
    return rows[0]?.portfolioId;
  }
}
