/**
 * The audit log's one entry point for the rest of the application (`app.audit`) and for the CLI.
 *
 *   await app.audit.record({ action: 'auth.register', actor: user.id, outcome: 'success',
 *                            target: { type: 'user', id: user.id }, ...app.audit.contextOf(request) }, tx);
 *
 * Pass the transaction that makes the state change: the event then commits or rolls back with it.
 */
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../config/index.js';
import { keysetPage, type Page } from '../../http/cursor.js';
import type { Clock } from '../../platform/clock.js';
import { afterCommit, type Db, type Queryable } from '../../platform/db/index.js';
import { ACCOUNT_EVENT_PREFIXES, REPORT_FAMILIES } from './actions.js';
import { verifyBundle, writeBundle, type BundleHeader } from './bundle.js';
import { CHAIN_VERSION, GENESIS_HASH, chainHash, type ChainedEvent, type PreEncodedRow } from './canonical.js';
import { CheckpointFiles, checkpointDir } from './checkpoint-files.js';
import { auditErrors } from './errors.js';
import { cleanEvent, type AuditEventInput, type CleanEvent, type RequestContext } from './event.js';
import { resolvePiiKey, resolveSigningKey } from './keys.js';
import { AuditPii } from './pii.js';
import { AuditCheckpointRepository, AuditPiiRepository, AuditRepository, type EventFilter } from './repository.js';
import { RejectedRequests } from './rejected.js';
import { Sealer } from './sealer.js';
import { checkSignature, trustedKeys, type Checkpoint, type SigningKey, type TrustedKeys } from './signing.js';
import { AUDIT_ACTIONS } from './actions.js';
import { describeResult, verifyChain, type Anchor, type VerifyResult } from './verify.js';

export interface AuditServiceOptions {
  db: Db;
  clock: Clock;
  dataDir: string;
  /** Signs checkpoints; without it (a verifier-only process) nothing is signed. */
  key: SigningKey | undefined;
  /** Public keys of retired signing keys (AUDIT_TRUSTED_KEYS). */
  trusted?: readonly { kid: string; key: string }[];
  checkpointEvery: number;
  checkpointIntervalS: number;
  retentionDays: number;
  log?: { warn: (obj: object, msg: string) => void };
  /** Sealer batch size (tests make it small to exercise batching). */
  batchSize?: number;
  /** AUDIT_PII_KEY: wraps the data keys of the personal data in events (./pii.ts). */
  piiKey: Buffer;
  /** AUDIT_PII_RETENTION_DAYS. */
  piiRetentionDays?: number;
}

/** Rows an `ip` filter looks through at most per request (the IP is encrypted: it is matched after decryption). */
const IP_SCAN_MAX = 50_000;
const IP_SCAN_PAGE = 1_000;

export interface PruneResult {
  pruned: number;
  fromSeq: number | null;
  toSeq: number | null;
  bundle: string | null;
  bundleSha256: string | null;
  cutoff: string;
}

export interface ExportResult {
  file: string;
  fromSeq: number;
  toSeq: number;
  events: number;
  sha256: string;
  checkpoint: Checkpoint;
}

const PAGE = 10_000;

export class AuditService {
  readonly repo: AuditRepository;
  private readonly checkpointRepo: AuditCheckpointRepository;
  readonly sealer: Sealer;
  readonly files: CheckpointFiles;
  readonly keys: TrustedKeys;
  /** Encryption and shredding of the personal data in events (./pii.ts). */
  readonly pii: AuditPii;
  readonly piiRepo: AuditPiiRepository;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly observers: ((event: CleanEvent) => void)[] = [];
  private readonly rejected: RejectedRequests;
  private rejectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: AuditServiceOptions) {
    this.repo = new AuditRepository(o.db);
    this.checkpointRepo = new AuditCheckpointRepository(o.db);
    this.files = new CheckpointFiles(checkpointDir(o.dataDir));
    this.rejected = new RejectedRequests(o.clock, (event) => this.record(event));
    this.keys = trustedKeys(o.key, o.trusted ?? []);
    this.piiRepo = new AuditPiiRepository(o.db);
    this.pii = new AuditPii(this.piiRepo, { kek: o.piiKey });
    this.sealer = new Sealer({
      protect: (events, tx) => this.pii.protect(events, tx),
      db: o.db,
      clock: o.clock,
      key: o.key,
      files: this.files,
      checkpointEvery: o.checkpointEvery,
      checkpointIntervalS: o.checkpointIntervalS,
      ...(o.batchSize ? { batchSize: o.batchSize } : {}),
      onError: (err, what) => o.log?.warn({ err }, `audit: failed ${what}`),
    });
  }

  /** AUDIT_PII_RETENTION_DAYS (0: kept as long as the events). */
  get piiRetentionDays(): number {
    return this.o.piiRetentionDays ?? 0;
  }

  get signingKey(): SigningKey | undefined {
    return this.o.key;
  }

  /**
   * Writes an event. With `tx`, it commits or rolls back with the caller's transaction; without,
   * it is written at once. Throws AUDIT_EVENT_INVALID for a malformed event (action, actor...);
   * secrets in metadata are redacted, never refused.
   */
  async record(event: AuditEventInput, tx?: Queryable): Promise<void> {
    const clean = cleanEvent(event, this.o.clock.now());
    await this.repo.insertInbox(clean, tx ?? this.o.db);
    this.sealer.nudge();
    if (this.observers.length > 0) {
      afterCommit(tx ?? this.o.db, () => {
        for (const observe of this.observers) observe(clean);
      });
    }
  }

  /**
   * Calls `observe` with each event this node records, once its transaction commits (never for one
   * that rolls back): the security counters on /metrics (src/security/monitoring/). It runs on the
   * request path, so it must be cheap; one that throws does not stop the others or the request.
   */
  onRecorded(observe: (event: CleanEvent) => void): void {
    this.observers.push((event) => {
      try {
        observe(event);
      } catch (err) {
        this.o.log?.warn({ err }, 'audit: an observer failed');
      }
    });
  }

  /** The request-derived fields of an event: client IP, user agent, request id. */
  contextOf(request: FastifyRequest): RequestContext {
    const ua = request.headers['user-agent'];
    return {
      ip: clientIpOf(request),
      userAgent: typeof ua === 'string' && ua !== '' ? ua : null,
      requestId: String(request.id),
    };
  }

  /** Keeps track of a write made outside any request flow (the automatic hook), for flush(). */
  track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.o.log?.warn({ err }, 'audit: failed to record a request event'));
    this.inflight.add(tracked);
    void tracked.finally(() => this.inflight.delete(tracked));
  }

  /** A request refused by the shield, counted per client and minute (./rejected.ts). */
  noteRejected(kind: 'limited' | 'blocked', ip: string | null, route: string | null, status: number): void {
    this.rejected.note(kind, ip, route, status);
  }

  private flushRejected(): Promise<void> {
    return this.rejected.flush();
  }

  /** Waits for pending hook writes, then chains everything committed. */
  async flush(): Promise<void> {
    await this.flushRejected().catch((err: unknown) =>
      this.o.log?.warn({ err }, 'audit: failed to record refused requests'),
    );
    await Promise.allSettled([...this.inflight]);
    await this.sealer.drain();
  }

  start(): void {
    this.sealer.start();
    this.rejectTimer = setInterval(() => {
      this.flushRejected().catch((err: unknown) =>
        this.o.log?.warn({ err }, 'audit: failed to record refused requests'),
      );
    }, 60_000);
    this.rejectTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.rejectTimer);
    await this.flushRejected().catch(() => undefined);
    await Promise.allSettled([...this.inflight]);
    await this.sealer.stop();
  }

  /** Signs a checkpoint at the current head now (also happens by count and by time). */
  async checkpoint(): Promise<Checkpoint | undefined> {
    if (!this.o.key) throw auditErrors.notConfigured('No audit signing key is configured (AUDIT_SIGNING_KEY)');
    return this.sealer.checkpoint();
  }

  // ---- verification ------------------------------------------------------------------------

  /** Where the retained chain starts: genesis, or the anchor left by the latest prune. */
  async anchor(): Promise<Anchor> {
    const prunes = await this.repo.prunes();
    const latest = prunes[prunes.length - 1];
    if (!latest) return { seq: 0, hash: GENESIS_HASH };
    const before = prunes[prunes.length - 2];
    return {
      seq: latest.toSeq,
      hash: latest.anchorHash,
      requireCheckpoint: true,
      requirePruneEvent: true,
      deletedFrom: (before?.toSeq ?? 0) + 1,
    };
  }

  /** Pages of rows after `afterSeq` (up to `toSeq`), in seq order; the next page is fetched while the caller works. */
  async *pages(afterSeq: number, toSeq?: number): AsyncGenerator<ChainedEvent[]> {
    let next = this.repo.range(afterSeq, PAGE, toSeq);
    for (;;) {
      const page = await next;
      const last = page[page.length - 1];
      if (!last) return;
      next = page.length === PAGE ? this.repo.range(last.seq, PAGE, toSeq) : Promise.resolve([]);
      next.catch(() => undefined); // surfaced by the await above if the caller keeps reading
      yield page;
    }
  }

  /** Like pages(), in the verifier's pre-encoded form. */
  private async *verifyPages(afterSeq: number): AsyncGenerator<PreEncodedRow[]> {
    let next = this.repo.verifyPage(afterSeq, PAGE);
    for (;;) {
      const page = await next;
      const last = page[page.length - 1];
      if (!last) return;
      next = page.length === PAGE ? this.repo.verifyPage(last.seq, PAGE) : Promise.resolve([]);
      next.catch(() => undefined);
      yield page;
    }
  }

  async *rows(afterSeq: number, toSeq?: number): AsyncGenerator<ChainedEvent> {
    for await (const page of this.pages(afterSeq, toSeq)) yield* page;
  }

  /** Checkpoints from the database and from the files outside it, without duplicates. */
  async allCheckpoints(fromSeq = 0, toSeq?: number): Promise<Checkpoint[]> {
    const [db, files, superseded] = await Promise.all([
      this.checkpointRepo.list(fromSeq, toSeq),
      this.files.readAll(),
      this.supersededRange(),
    ]);
    const seen = new Set<string>();
    const out: Checkpoint[] = [];
    for (const c of [...db, ...files]) {
      if (c.seq < fromSeq || (toSeq !== undefined && c.seq > toSeq)) continue;
      // Signed over the clear-text form the re-chain replaced (see migratePii).
      if (superseded && c.seq > superseded.afterSeq && c.seq <= superseded.headSeq) continue;
      const id = `${c.seq}:${c.hash}:${c.kid}:${c.sig}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(c);
    }
    return out;
  }

  /**
   * The rows the one-time re-chain rewrote (migratePii), whose earlier checkpoints vouch for the
   * clear-text form: honoured only when a valid signed checkpoint at the `audit.pii.rechained`
   * event right after them matches the chain, so a forged record cannot hide a checkpoint (that
   * checkpoint covers every row before it anyway).
   */
  private async supersededRange(): Promise<{ afterSeq: number; headSeq: number } | undefined> {
    const r = await this.piiRepo.rechain();
    if (!r || r.state !== 'done' || r.afterSeq === null || r.headSeq === null || r.sealSeq !== r.headSeq + 1)
      return undefined;
    const seal = await this.repo.getBySeq(r.sealSeq);
    if (!seal || seal.action !== AUDIT_ACTIONS.auditPiiRechained) return undefined;
    const [db, files] = await Promise.all([this.checkpointRepo.list(r.sealSeq, r.sealSeq), this.files.readAll()]);
    const vouched = [...db, ...files].some(
      (c) => c.seq === r.sealSeq && c.hash === seal.hash && checkSignature(c, this.keys) === 'valid',
    );
    return vouched ? { afterSeq: r.afterSeq, headSeq: r.headSeq } : undefined;
  }

  /**
   * The one-time migration of events sealed before their personal data was encrypted (migration
   * 0020 leaves a `pending` record when there are any). Their hashes cover the clear text, so:
   * 1. the whole chain is verified first, against every signed checkpoint: a damaged chain is
   *    never laundered (the record becomes `refused`, the rows stay as they are);
   * 2. under the sealer lock, in one transaction, each row from the retained anchor on gets its
   *    personal fields encrypted (AAD bound to its seq) and its hash recomputed over the
   *    ciphertext, chained from the anchor (whose hash does not change);
   * 3. an `audit.pii.rechained` event (old and new head hashes) is sealed right after and a
   *    checkpoint is signed at it: that checkpoint now vouches for the rewritten rows, and the
   *    checkpoints signed before over the clear-text form are set aside by supersededRange().
   * Needs the signing key; a process without one leaves the record pending.
   */
  async migratePii(): Promise<'none' | 'done' | 'refused' | 'no_key'> {
    const record = await this.piiRepo.rechain();
    if (!record) return 'none';
    if (record.state === 'done' && record.sealSeq !== null && this.o.key) {
      // Idempotent: signs the re-chain's checkpoint if a crash came between the commit and the signature.
      await this.sealer.checkpointAtSeq(record.sealSeq);
      return 'none';
    }
    if (record.state !== 'pending') return 'none';
    if (!this.o.key) return 'no_key';
    const check = await this.verify();
    const now = () => this.o.clock.now();
    if (!check.ok) {
      await this.piiRepo.setRechain({ state: 'refused', detail: describeResult(check) }, now());
      this.o.log?.warn(
        { damage: check.damage },
        'audit: the chain does not verify, its personal data was NOT re-chained',
      );
      return 'refused';
    }
    const anchor = await this.anchor();
    const sealSeq = await this.sealer.exclusive(async (tx) => {
      const again = await this.piiRepo.rechain(tx);
      if (!again || again.state !== 'pending') return undefined;
      const oldHead = await this.repo.head(tx);
      let prev = anchor.hash;
      let after = anchor.seq;
      for (;;) {
        const page = await this.repo.range(after, PAGE, undefined, tx);
        const last = page[page.length - 1];
        if (!last) break;
        await this.pii.protect(page, tx);
        for (const row of page) {
          row.prevHash = prev;
          row.hash = chainHash(row, prev);
          prev = row.hash;
        }
        await this.piiRepo.rewriteChained(page, tx);
        after = last.seq;
      }
      // The re-chain's own event, chained right after the rewritten rows in the same transaction.
      const clean = cleanEvent(
        {
          action: AUDIT_ACTIONS.auditPiiRechained,
          actor: 'system',
          outcome: 'success',
          target: { type: 'audit_range', id: `${anchor.seq + 1}-${oldHead.seq}` },
          metadata: { fromSeq: anchor.seq + 1, toSeq: oldHead.seq, oldHeadHash: oldHead.hash, newHeadHash: prev },
        },
        now(),
      );
      const content = { ...clean, seq: oldHead.seq + 1, v: CHAIN_VERSION, time: clean.time.toISOString() };
      const seal: ChainedEvent = { ...content, prevHash: prev, hash: chainHash(content, prev) };
      await this.repo.insertChained([seal], tx);
      await this.piiRepo.setRechain(
        { state: 'done', afterSeq: anchor.seq, headSeq: oldHead.seq, sealSeq: seal.seq },
        now(),
        tx,
      );
      return seal.seq;
    });
    if (sealSeq === undefined) return 'none';
    // From here the checkpoint at the re-chain event vouches for the rewritten rows (supersededRange).
    await this.sealer.checkpointAtSeq(sealSeq);
    return 'done';
  }

  /**
   * Erasure: destroys the data keys of the user's personal data in the log (its id, and its
   * email for the events about the address before it was an account's), in the caller's
   * transaction. The chain is untouched; the fields then read `erased-subject:<id>`.
   */
  async shredUser(userId: string, email: string | null, tx: Queryable): Promise<number> {
    return this.pii.shred(this.pii.rootsOfUser(userId, email), this.o.clock.now(), 'erasure', tx);
  }

  /** Retention: destroys the data keys of months older than AUDIT_PII_RETENTION_DAYS (the chain stays). */
  async shredExpiredPii(options: { dryRun?: boolean } = {}): Promise<{ keys: number; cutoff: string }> {
    const days = this.o.piiRetentionDays ?? 0;
    const cutoff = new Date(this.o.clock.now().getTime() - days * 86_400_000);
    if (days <= 0) return { keys: 0, cutoff: cutoff.toISOString() };
    if (options.dryRun) return { keys: await this.piiRepo.countBuckets(cutoff), cutoff: cutoff.toISOString() };
    const keys = await this.o.db.transaction(async (tx) => {
      const n = await this.pii.shredBefore(cutoff, this.o.clock.now(), tx);
      if (n > 0)
        await this.record(
          {
            action: AUDIT_ACTIONS.auditPiiShredded,
            actor: 'system',
            outcome: 'success',
            metadata: { keys: n, cutoff: cutoff.toISOString(), retentionDays: days },
          },
          tx,
        );
      return n;
    });
    return { keys, cutoff: cutoff.toISOString() };
  }

  /** Chained rows in their readable form (SIEM delivery, detection): decrypted where a key remains. */
  async readRange(afterSeq: number, limit: number): Promise<ChainedEvent[]> {
    return this.pii.reveal(await this.repo.range(afterSeq, limit));
  }

  /** The readable form of rows read elsewhere (the detection consumer's own queries). */
  reveal(events: readonly ChainedEvent[], tx?: Queryable): Promise<ChainedEvent[]> {
    return this.pii.reveal(events, tx);
  }

  /** Verifies the chain in the database (from the retained anchor, or from `fromSeq`). */
  async verify(options: { fromSeq?: number | undefined } = {}): Promise<VerifyResult> {
    await this.flush().catch(() => undefined);
    let anchor = await this.anchor();
    if (options.fromSeq !== undefined && options.fromSeq - 1 > anchor.seq) {
      const before = await this.repo.getBySeq(options.fromSeq - 1);
      if (!before) throw auditErrors.invalidRange(`There is no event at seq ${options.fromSeq - 1} to start from`);
      // Starting mid-chain trusts the stored hash of the row before; the checkpoints after it
      // still vouch for everything verified.
      anchor = { seq: before.seq, hash: before.hash };
    }
    const checkpoints = await this.allCheckpoints(anchor.seq);
    return verifyChain({
      pages: this.verifyPages(anchor.seq),
      fullRow: (seq) => this.repo.getBySeq(seq),
      anchor,
      checkpoints,
      keys: this.keys,
      findSuccessor: (h) => this.repo.seqByPrevHash(h),
    });
  }

  verifyBundle(file: string): Promise<VerifyResult & { header: BundleHeader }> {
    return verifyBundle(file, this.keys);
  }

  // ---- export and retention ----------------------------------------------------------------

  /** Writes a verifiable JSONL bundle of [fromSeq, toSeq] with its checkpoints (one signed at toSeq). */
  async exportBundle(options: {
    fromSeq?: number | undefined;
    toSeq?: number | undefined;
    out: string;
  }): Promise<ExportResult> {
    if (!this.o.key) throw auditErrors.notConfigured('No audit signing key is configured (AUDIT_SIGNING_KEY)');
    await this.flush();
    const anchor = await this.anchor();
    const bounds = await this.repo.bounds();
    if (bounds.max === null) throw auditErrors.invalidRange('The audit log is empty');
    const fromSeq = Math.max(options.fromSeq ?? anchor.seq + 1, anchor.seq + 1);
    const toSeq = Math.min(options.toSeq ?? bounds.max, bounds.max);
    if (fromSeq > toSeq) throw auditErrors.invalidRange(`Nothing to export between seq ${fromSeq} and ${toSeq}`);
    const first = await this.repo.getBySeq(fromSeq);
    if (!first) throw auditErrors.invalidRange(`There is no event at seq ${fromSeq}`);
    const checkpoint = await this.sealer.checkpointAtSeq(toSeq);
    if (!checkpoint) throw auditErrors.invalidRange(`There is no event at seq ${toSeq}`);
    const header: BundleHeader = {
      type: 'audit-bundle',
      v: 1,
      from: fromSeq,
      to: toSeq,
      anchor: { seq: fromSeq - 1, hash: first.prevHash },
      exportedAt: this.o.clock.now().toISOString(),
      kid: this.o.key.kid,
      publicKey: this.o.key.publicKeyRaw,
    };
    const checkpoints = await this.allCheckpoints(fromSeq - 1, toSeq);
    const written = await writeBundle(options.out, header, checkpoints, this.rows(fromSeq - 1, toSeq));
    if (written.events !== toSeq - fromSeq + 1) {
      throw auditErrors.damaged(
        `Expected ${toSeq - fromSeq + 1} events between seq ${fromSeq} and ${toSeq} but found ${written.events}`,
      );
    }
    return { file: options.out, fromSeq, toSeq, events: written.events, sha256: written.sha256, checkpoint };
  }

  /**
   * Retention: everything older than AUDIT_RETENTION_DAYS (or `before`) is exported to a bundle,
   * the bundle is verified, the prune is recorded (a row in audit_prunes plus an `audit.prune`
   * event carrying the range and the bundle's hash, in one transaction), and only then are the
   * rows deleted, in short batches. The chain continues from the signed anchor at the last pruned seq.
   */
  async prune(
    options: { before?: Date | undefined; out?: string | undefined; batch?: number | undefined } = {},
  ): Promise<PruneResult> {
    const cutoff = options.before ?? new Date(this.o.clock.now().getTime() - this.o.retentionDays * 86_400_000);
    await this.flush();
    const anchor = await this.anchor();
    const bounds = await this.repo.bounds();
    const none: PruneResult = {
      pruned: 0,
      fromSeq: null,
      toSeq: null,
      bundle: null,
      bundleSha256: null,
      cutoff: cutoff.toISOString(),
    };
    if (bounds.max === null) return none;
    const firstKept = await this.repo.firstSeqNotBefore(cutoff);
    const toSeq = (firstKept ?? bounds.max + 1) - 1;
    const fromSeq = anchor.seq + 1;
    if (toSeq < fromSeq) return none;
    const out =
      options.out ?? path.join(path.resolve(this.o.dataDir), 'audit', 'pruned', `audit-${fromSeq}-${toSeq}.jsonl`);
    const exported = await this.exportBundle({ fromSeq, toSeq, out });
    // Never delete what we cannot prove we kept.
    const check = await this.verifyBundle(out);
    if (!check.ok)
      throw auditErrors.damaged(
        `The export of seq ${fromSeq}-${toSeq} does not verify, nothing was deleted: ${describeResult(check)}`,
      );
    const anchorRow = await this.repo.getBySeq(toSeq);
    if (!anchorRow) throw auditErrors.damaged(`seq ${toSeq} vanished during the prune`);
    await this.o.db.transaction(async (tx) => {
      await this.repo.insertPrune(
        {
          toSeq,
          fromSeq,
          anchorHash: anchorRow.hash,
          bundleSha256: exported.sha256,
          bundleFile: path.basename(out),
          time: this.o.clock.now(),
        },
        tx,
      );
      await this.record(
        {
          action: 'audit.prune',
          actor: 'system',
          outcome: 'success',
          target: { type: 'audit_range', id: `${fromSeq}-${toSeq}` },
          metadata: {
            fromSeq,
            toSeq,
            anchorHash: anchorRow.hash,
            bundleSha256: exported.sha256,
            bundleFile: path.basename(out),
            cutoff: cutoff.toISOString(),
          },
        },
        tx,
      );
    });
    await this.flush();
    let pruned = 0;
    for (;;) {
      const n = await this.repo.pruneBatch(toSeq, options.batch ?? 5000);
      pruned += n;
      if (n === 0) break;
    }
    return { pruned, fromSeq, toSeq, bundle: out, bundleSha256: exported.sha256, cutoff: cutoff.toISOString() };
  }

  // ---- queries -----------------------------------------------------------------------------

  /** Newest first; the cursor holds the `seq` of the last event of the page. */
  async list(filter: EventFilter, limit: number, beforeSeq?: number): Promise<Page<ChainedEvent>> {
    await this.flush();
    if (filter.ip === undefined)
      return keysetPage(
        await this.pii.reveal(await this.repo.query({ ...filter, beforeSeq }, limit + 1)),
        limit,
        (e) => [e.seq],
      );
    // The IP is stored encrypted: it is matched on the decrypted rows, scanning at most IP_SCAN_MAX.
    const found: ChainedEvent[] = [];
    let before = beforeSeq;
    for (let scanned = 0; found.length <= limit && scanned < IP_SCAN_MAX;) {
      const page = await this.repo.query({ ...filter, ip: undefined, beforeSeq: before }, IP_SCAN_PAGE);
      scanned += page.length;
      for (const e of await this.pii.reveal(page)) if (e.ip === filter.ip) found.push(e);
      const last = page[page.length - 1];
      if (!last || page.length < IP_SCAN_PAGE) break;
      before = last.seq;
    }
    return keysetPage(found.slice(0, limit + 1), limit, (e) => [e.seq]);
  }

  /**
   * One account's own security events (`ACCOUNT_EVENT_PREFIXES`), newest first: the "recent
   * security events" of the account page. Never another user's (see the repository's rule).
   */
  async accountEvents(userId: string, limit: number, beforeSeq?: number): Promise<Page<ChainedEvent>> {
    await this.flush();
    return keysetPage(
      await this.pii.reveal(await this.repo.accountEvents(userId, ACCOUNT_EVENT_PREFIXES, limit + 1, beforeSeq)),
      limit,
      (e) => [e.seq],
    );
  }

  /** Matching events, oldest first, page by page (exports). */
  async *matching(filter: EventFilter, max: number): AsyncGenerator<ChainedEvent> {
    await this.flush();
    let after = 0;
    let sent = 0;
    for (;;) {
      const want = Math.min(PAGE, max - sent);
      if (want <= 0) return;
      // An `ip` filter is applied after decryption (the column holds ciphertext).
      const page = await this.repo.query({ ...filter, ip: undefined, afterSeq: after }, want, 'asc');
      const readable = await this.pii.reveal(page);
      const kept = filter.ip === undefined ? readable : readable.filter((e) => e.ip === filter.ip);
      yield* kept;
      sent += filter.ip === undefined ? page.length : kept.length;
      const last = page[page.length - 1];
      if (!last || page.length < want) return;
      after = last.seq;
    }
  }

  async report(from: Date, to: Date) {
    if (from.getTime() >= to.getTime()) throw auditErrors.invalidRange('from must be before to');
    const counts = await this.repo.countFamilies(REPORT_FAMILIES, from, to);
    const verified = await this.verify();
    const range = await this.repo.seqRangeForTime(from, to);
    const damage = verified.damage;
    const affected = damage !== null && (range.max === null || damage.seq <= range.max + 1);
    const signed = range.max === null || (verified.lastCheckpoint !== null && verified.lastCheckpoint.seq >= range.max);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      generatedAt: this.o.clock.now().toISOString(),
      counts: {
        loginsSucceeded: counts['loginsSucceeded'] ?? 0,
        loginsFailed: counts['loginsFailed'] ?? 0,
        lockouts: counts['lockouts'] ?? 0,
        tokensRevoked: counts['tokensRevoked'] ?? 0,
        reuseDetections: counts['reuseDetections'] ?? 0,
        rateLimitBlocks: counts['rateLimitBlocks'] ?? 0,
        adminActions: counts['adminActions'] ?? 0,
        exports: counts['exports'] ?? 0,
        denied: counts['denied'] ?? 0,
        total: counts['total'] ?? 0,
      },
      integrity: {
        status: affected ? ('damaged' as const) : ('intact' as const),
        signed,
        seqFrom: range.min,
        seqTo: range.max,
        damage: affected ? damage : null,
        summary: describeResult(verified),
        lastCheckpoint: verified.lastCheckpoint,
      },
    };
  }

  async stats(from: Date, to: Date, bucket: 'hour' | 'day') {
    if (from.getTime() >= to.getTime()) throw auditErrors.invalidRange('from must be before to');
    const seconds = bucket === 'day' ? 86_400 : 3_600;
    if ((to.getTime() - from.getTime()) / 1000 / seconds > 2000)
      throw auditErrors.invalidRange('The range has too many buckets; use bucket=day or a shorter range');
    await this.flush();
    const rows = await this.repo.series(from, to, seconds);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      bucket,
      series: rows.map((r) => ({ ...r, bucket: r.bucket.toISOString() })),
    };
  }

  async status() {
    const verified = await this.verify();
    const [head, inbox] = await Promise.all([this.repo.head(), this.repo.inboxSize()]);
    return {
      ok: verified.ok,
      summary: describeResult(verified),
      damage: verified.damage,
      events: verified.events,
      head,
      inbox,
      lastCheckpoint: verified.lastCheckpoint,
      checkpoints: verified.checkpoints,
      kid: this.o.key?.kid ?? null,
      verifiedInMs: Math.round(verified.ms),
    };
  }
}

/**
 * The client address every stage uses: the canonical `request.clientIp` of the shield
 * (src/http/client-ip.ts: TRUST_PROXY applied, IPv4-mapped IPv6 normalised), else Fastify's.
 */
export function clientIpOf(request: FastifyRequest): string | null {
  const canonical = (request as { clientIp?: unknown }).clientIp;
  return typeof canonical === 'string' && canonical !== '' ? canonical : request.ip || null;
}

/** Builds the service from configuration (the plugin, the CLI and tests share this). */
export async function createAuditService(
  deps: { db: Db; clock: Clock; config: Config; log?: AuditServiceOptions['log'] },
  options: { createKey: boolean; batchSize?: number },
): Promise<AuditService> {
  const { config } = deps;
  return new AuditService({
    db: deps.db,
    clock: deps.clock,
    dataDir: config.DATA_DIR,
    key: await resolveSigningKey(config, { create: options.createKey }),
    trusted: config.AUDIT_TRUSTED_KEYS,
    checkpointEvery: config.AUDIT_CHECKPOINT_EVERY,
    checkpointIntervalS: config.AUDIT_CHECKPOINT_INTERVAL,
    retentionDays: config.AUDIT_RETENTION_DAYS,
    piiKey: await resolvePiiKey(config),
    piiRetentionDays: config.AUDIT_PII_RETENTION_DAYS,
    ...(deps.log ? { log: deps.log } : {}),
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
  });
}
