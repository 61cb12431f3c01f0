/**
 * How a write reaches every node's public-read cache. The one place writers call:
 *
 *   await app.content.publicChanges.touch(tx, [portfolioId]);
 *
 * In the writer's transaction it raises the portfolios' content versions; once that transaction
 * has committed (afterCommit), it evicts their entries on this node at once and publishes their
 * ids on the KV channel, so every other node evicts them too. A rolled-back write announces
 * nothing. A message that never arrives (KV down, subscriber reconnecting) is covered by the
 * cache's staleness bound, which asks the database for the version (cache.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { afterCommit, type Queryable } from '../../platform/db/index.js';
import { isUuid } from '../../platform/ids.js';
import type { Kv } from '../../platform/kv/types.js';
import type { PublicReadCache } from './cache.js';
import { PublicVersionRepository } from './repository.js';

export const PUBLIC_READ_CHANNEL = 'content:public-read';
/** Ids per message; a bigger change (an owner with many portfolios) is sent in several. */
const IDS_PER_MESSAGE = 500;
/** Attempts to publish one message before leaving the rest to the staleness bound. */
const PUBLISH_ATTEMPTS = 5;

/** The port other modules (uploads: media rows) use to keep the public read current. */
export interface PublicReadChangesPort {
  /** In `q`'s transaction (or at once outside one): raise these portfolios' versions, announce after commit. */
  touch(q: Queryable, portfolioIds: readonly string[]): Promise<void>;
  /** For a module's own write statement: the bump as a data-modifying CTE clause (see PublicVersionRepository). */
  bumpClause(portfolioIds: string): string;
  /** Announces portfolios whose versions `q` raised through `bumpClause`, once `q` commits. */
  announce(q: Queryable, portfolioIds: readonly string[]): void;
}

export class PublicReadChanges implements PublicReadChangesPort {
  /** Its own messages come back through the channel: this node evicted at commit already. */
  private readonly node = randomUUID();
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    private readonly repo: PublicVersionRepository,
    private readonly cache: PublicReadCache,
    private readonly kv: Kv,
    private readonly log: FastifyBaseLogger,
  ) {}

  async touch(q: Queryable, portfolioIds: readonly string[]): Promise<void> {
    const ids = [...new Set(portfolioIds)];
    if (ids.length === 0) return;
    this.announce(q, await this.repo.bump(ids, q));
  }

  /** Every portfolio of an owner (the account was disabled or enabled). */
  async touchOwner(q: Queryable, ownerId: string): Promise<void> {
    this.announce(q, await this.repo.bumpOwner(ownerId, q));
  }

  /** Every portfolio (a language and its translations removed everywhere). */
  async touchAll(q: Queryable): Promise<void> {
    this.announce(q, await this.repo.bumpAll(q));
  }

  bumpClause(portfolioIds: string): string {
    return PublicVersionRepository.bumpClause(portfolioIds);
  }

  announce(q: Queryable, portfolioIds: readonly string[]): void {
    if (portfolioIds.length === 0) return;
    const ids = [...portfolioIds];
    afterCommit(q, () => {
      this.cache.evict(ids);
      for (let i = 0; i < ids.length; i += IDS_PER_MESSAGE) void this.publish(ids.slice(i, i + IDS_PER_MESSAGE));
    });
  }

  /** Listens for other nodes' changes. Failing here (KV down at boot) leaves the staleness bound in charge. */
  async start(): Promise<void> {
    try {
      this.unsubscribe = await this.kv.subscribe(PUBLIC_READ_CHANNEL, (raw) => this.onMessage(raw));
    } catch (err) {
      this.log.warn(
        { err },
        'public read cache: not subscribed to changes; entries are rechecked against the database',
      );
    }
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.().catch(() => undefined);
    this.unsubscribe = null;
  }

  private async publish(ids: string[]): Promise<void> {
    const message = JSON.stringify({ node: this.node, ids });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.kv.publish(PUBLIC_READ_CHANNEL, message);
        return;
      } catch (err) {
        if (attempt >= PUBLISH_ATTEMPTS) {
          this.log.warn(
            { err, portfolios: ids.length },
            'public read cache: change not announced; other nodes recheck within the staleness bound',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt).unref());
      }
    }
  }

  /** Anyone who can publish on the channel can at most evict entries: ids are checked, nothing else is read. */
  private onMessage(raw: string): void {
    let ids: unknown;
    try {
      const message = JSON.parse(raw) as { node?: unknown; ids?: unknown };
      if (message.node === this.node) return;
      ids = message.ids;
    } catch {
      return;
    }
    if (!Array.isArray(ids) || ids.length > IDS_PER_MESSAGE) return;
    this.cache.evict(ids.filter((id): id is string => typeof id === 'string' && isUuid(id)));
  }
}
