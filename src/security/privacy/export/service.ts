/**
 * The data export (right of access and portability, docs/PRIVACY.md "Export").
 *
 * - A request writes a `pending` row (and its audit event) and answers 202 with its id.
 * - The job builds it: every node tries each PRIVACY_EXPORT_POLL_MS, only the holder of the KV
 *   leader lease (`privacy-export:leader`) runs a pass, and a pass claims one row at a time in the
 *   database (`for update skip locked`, with a claim that runs out: a node that dies mid-build
 *   leaves a row the next pass takes again). Rows live in the database, so a restart loses nothing.
 * - The archive is streamed: data.json, then each medium's served file, deflated as read and
 *   written to the blob store (local directory or S3) under `privacy-exports/<id>.zip`.
 * - The download link is the requester's alone: HMAC-SHA256 (a key derived from the server secret)
 *   over the export id, the requester's id and the link's expiry, checked in constant time, and
 *   the signed-in account must be the requester. It works once: one conditional update records
 *   the download, so of two concurrent downloads one gets the file and the other 410.
 * - Archives are deleted once downloaded, and in any case 7 days after they were built
 *   (housekeeping, hourly on every node; deletes are idempotent).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Clock } from '../../../platform/clock.js';
import type { Db, Queryable } from '../../../platform/db/index.js';
import { BlobNotFoundError, type BlobStore } from '../../../platform/blob/index.js';
import { newId } from '../../../platform/ids.js';
import type { Kv } from '../../../platform/kv/index.js';
import { LeaderJob } from '../../../platform/kv/leader-job.js';
import type { Mailer } from '../../../platform/mail/index.js';
import type { UsersService } from '../../../users/service.js';
import { AUDIT_ACTIONS } from '../../audit/actions.js';
import type { AuditEventInput, RequestContext } from '../../audit/event.js';
import { collectExport, mediaFiles, type AuditEventsSource } from './archive.js';
import { exportErrors } from './errors.js';
import { ExportRepository, type ExportRow, type ExportStatus } from './repository.js';
import { zipStream } from './zip.js';

/** Archives are deleted this long after they were built (downloaded ones sooner). */
export const EXPORT_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** A builder's claim on a row: past it, another pass takes the row again. */
export const EXPORT_CLAIM_MS = 15 * 60 * 1000;
/** Builds of one export before it is marked failed. */
export const EXPORT_MAX_ATTEMPTS = 3;
/** The leader lease's KV key (KV_PREFIX is added by the store). */
export const EXPORT_LEASE_KEY = 'privacy-export:leader';
/** Exports built per pass (each is one user's whole data: a pass stays short). */
const PER_PASS = 5;
/** The blob key prefix of archives. */
export const ARCHIVE_PREFIX = 'privacy-exports/';

export interface ExportServiceOptions {
  db: Db;
  clock: Clock;
  kv?: Kv;
  audit: {
    record(event: AuditEventInput, tx?: Queryable): Promise<void>;
  } & AuditEventsSource;
  mail: Mailer;
  users: Pick<UsersService, 'get'>;
  /** The media files' store (the uploads store) and the archives' store (the same by default). */
  mediaStore: BlobStore;
  archiveStore: BlobStore;
  /** The HMAC key of download links. */
  linkKey: Buffer;
  linkTtlSeconds: number;
  /** Absolute URL of a path (app.publicUrl). */
  urlOf: (path: string) => string;
  intervalMs: number;
  log?: { warn(obj: object, msg: string): void };
}

export interface ExportView {
  id: string;
  status: ExportStatus;
  url: string | null;
  expiresAt: string | null;
  createdAt: string;
  readyAt: string | null;
  archiveDeletedAt: string | null;
}

export interface Requester {
  userId: string;
  context?: Partial<RequestContext>;
}

export class ExportService {
  readonly repo: ExportRepository;
  private readonly job: LeaderJob<number>;

  constructor(private readonly o: ExportServiceOptions) {
    this.repo = new ExportRepository(o.db);
    this.job = new LeaderJob({
      label: 'privacy export',
      kv: o.kv,
      leaseKey: EXPORT_LEASE_KEY,
      intervalMs: o.intervalMs,
      leaseMs: 2 * (o.intervalMs || 5000),
      withoutLease: 'using row claims only',
      pass: () => this.pass(),
      log: o.log,
    });
  }

  // ---- requests --------------------------------------------------------------------------------

  /**
   * A new export of `subjectId`'s data for `by` (the subject, or an admin): 202 with its id. One at
   * a time per requester and subject (409 EXPORT_IN_PROGRESS with the running one's id).
   */
  async request(subjectId: string, by: Requester): Promise<{ id: string }> {
    const id = newId();
    await this.o.db.transaction(async (tx) => {
      const running = await this.repo.inProgress(subjectId, by.userId, tx);
      if (running) throw exportErrors.inProgress(running);
      await this.repo.insert({ id, subjectId, requestedBy: by.userId, createdAt: this.o.clock.now() }, tx);
      await this.o.audit.record(
        {
          action: AUDIT_ACTIONS.privacyExportRequested,
          actor: by.userId,
          outcome: 'success',
          target: { type: 'user', id: subjectId },
          metadata: { exportId: id, forOther: subjectId !== by.userId },
          ...by.context,
        },
        tx,
      );
    });
    return { id };
  }

  /** The requester's view of an export; a ready one carries a fresh one-time link. */
  async view(id: string, requestedBy: string): Promise<ExportView> {
    const row = await this.repo.getFor(id, requestedBy);
    if (!row) throw exportErrors.notFound();
    const now = this.o.clock.now();
    let url: string | null = null;
    let expiresAt: string | null = null;
    if (row.status === 'ready' && row.archiveKey && row.expiresAt && row.expiresAt.getTime() > now.getTime()) {
      const expires = Math.min(
        Math.floor(now.getTime() / 1000) + this.o.linkTtlSeconds,
        Math.floor(row.expiresAt.getTime() / 1000),
      );
      url = this.o.urlOf(
        `/api/account/exports/${row.id}/download?${new URLSearchParams({ expires: String(expires), sig: this.sign(row.id, requestedBy, expires) }).toString()}`,
      );
      expiresAt = new Date(expires * 1000).toISOString();
    }
    return {
      id: row.id,
      status: row.status,
      url,
      expiresAt,
      createdAt: row.createdAt.toISOString(),
      readyAt: row.readyAt?.toISOString() ?? null,
      archiveDeletedAt: row.status === 'ready' ? (row.expiresAt?.toISOString() ?? null) : null,
    };
  }

  // ---- links -----------------------------------------------------------------------------------

  private mac(id: string, requestedBy: string, expires: number): Buffer {
    return createHmac('sha256', this.o.linkKey)
      .update(['v1', 'privacy-export', id.toLowerCase(), requestedBy.toLowerCase(), String(expires)].join('\n'))
      .digest();
  }

  sign(id: string, requestedBy: string, expires: number): string {
    return this.mac(id, requestedBy, expires).toString('base64url');
  }

  /**
   * Spends a download link: the signature (for this account) first, in constant time: anything not
   * signed for the caller is 404; then the expiry and the one-time download: a genuine link that
   * expired or was used is 410. Returns the archive's stream and size.
   */
  async download(
    id: string,
    requestedBy: string,
    query: { expires?: unknown; sig?: unknown },
    context: Partial<RequestContext> = {},
  ): Promise<{ stream: Readable; size: number | null; row: ExportRow }> {
    const expiresRaw = typeof query.expires === 'string' ? query.expires : '';
    const sig = typeof query.sig === 'string' ? query.sig : '';
    const expires = /^\d{1,12}$/.test(expiresRaw) ? Number(expiresRaw) : NaN;
    const given = Buffer.from(sig, 'base64url');
    const expected = Number.isFinite(expires) ? this.mac(id, requestedBy, expires) : Buffer.alloc(32);
    const genuine =
      Number.isFinite(expires) &&
      given.length === expected.length &&
      timingSafeEqual(given, expected) &&
      given.toString('base64url') === sig;
    if (!genuine) {
      await this.refused(id, requestedBy, 'signature', context);
      throw exportErrors.linkInvalid();
    }
    const now = this.o.clock.now();
    if (expires * 1000 <= now.getTime()) {
      await this.refused(id, requestedBy, 'expired', context);
      throw exportErrors.linkSpent();
    }
    const row = await this.o.db.transaction(async (tx) => {
      const spent = await this.repo.consume(id, requestedBy, now, tx);
      if (!spent) return undefined;
      await this.o.audit.record(
        {
          action: AUDIT_ACTIONS.privacyExportDownloaded,
          actor: requestedBy,
          outcome: 'success',
          target: { type: 'user', id: spent.subjectId },
          metadata: { exportId: id },
          ...context,
        },
        tx,
      );
      return spent;
    });
    if (!row || !row.archiveKey) {
      await this.refused(id, requestedBy, 'used', context);
      throw exportErrors.linkSpent();
    }
    try {
      const stream = await this.o.archiveStore.get(row.archiveKey);
      return { stream, size: row.archiveSize, row };
    } catch (err) {
      // The archive went missing from the store (deleted by hand): spent, like any other.
      if (err instanceof BlobNotFoundError) throw exportErrors.linkSpent();
      throw err;
    }
  }

  private async refused(id: string, by: string, reason: string, context: Partial<RequestContext>): Promise<void> {
    await this.o.audit.record({
      action: AUDIT_ACTIONS.privacyExportLinkRefused,
      actor: by,
      outcome: 'denied',
      target: { type: 'privacy_export', id },
      metadata: { reason },
      ...context,
    });
  }

  // ---- the job ---------------------------------------------------------------------------------

  start(intervalMs = this.o.intervalMs): void {
    this.job.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One pass (joined if one is running on this node): the number of exports built. */
  tick(): Promise<number> {
    return this.job.tick();
  }

  private async pass(): Promise<number> {
    if (!(await this.job.leads())) return 0;
    let built = 0;
    for (let i = 0; i < PER_PASS; i++) {
      const now = this.o.clock.now();
      const row = await this.repo.claimNext(now, new Date(now.getTime() + EXPORT_CLAIM_MS));
      if (!row) break;
      if (await this.build(row)) built++;
    }
    return built;
  }

  /** Builds one claimed export; a failure is recorded on the row (tried again, then `failed`). */
  private async build(row: ExportRow): Promise<boolean> {
    const key = `${ARCHIVE_PREFIX}${row.id}.zip`;
    try {
      const at = this.o.clock.now();
      const data = await collectExport(this.o.db, this.o.audit, this.o.users, row, at);
      const entries = [
        { name: 'data.json', body: Buffer.from(JSON.stringify(data, null, 2) + '\n', 'utf8') },
        ...mediaFiles(data, this.o.mediaStore),
      ];
      const info = await this.o.archiveStore.put(key, Readable.from(zipStream(entries, at)), {
        contentType: 'application/zip',
      });
      const readyAt = this.o.clock.now();
      const deleteAt = new Date(readyAt.getTime() + EXPORT_RETENTION_MS);
      const requester = await this.o.users.get(row.requestedBy);
      const done = await this.o.db.transaction(async (tx) => {
        if (!(await this.repo.markReady(row.id, row.attempts, { key, size: info.size }, readyAt, deleteAt, tx)))
          return false;
        await this.o.audit.record(
          {
            action: AUDIT_ACTIONS.privacyExportReady,
            actor: 'system',
            outcome: 'success',
            target: { type: 'user', id: row.subjectId },
            metadata: { exportId: row.id, requestedBy: row.requestedBy, size: info.size },
          },
          tx,
        );
        await this.o.mail.enqueue(
          this.o.mail.templates.privacyExportReady({
            to: { address: requester.email, name: requester.name },
            at: row.createdAt,
            deleteAt,
            forOther: row.subjectId !== row.requestedBy,
          }),
          tx,
        );
        return true;
      });
      // Our claim was taken over (this build ran past EXPORT_CLAIM_MS): the other build's archive counts.
      if (!done) this.o.log?.warn({ exportId: row.id }, 'privacy export: claim lost, archive left to the other build');
      return done;
    } catch (err) {
      this.o.log?.warn({ err, exportId: row.id }, 'privacy export: build failed');
      await this.o.archiveStore.delete(key).catch(() => undefined);
      const status = await this.repo.markFailed(
        row.id,
        row.attempts,
        err instanceof Error ? err.message : String(err),
        EXPORT_MAX_ATTEMPTS,
      );
      if (status === 'failed') {
        await this.o.audit.record({
          action: AUDIT_ACTIONS.privacyExportFailed,
          actor: 'system',
          outcome: 'failure',
          target: { type: 'user', id: row.subjectId },
          metadata: { exportId: row.id, attempts: row.attempts },
        });
      }
      return false;
    }
  }

  // ---- housekeeping ----------------------------------------------------------------------------

  /** Deletes downloaded archives and those past their 7 days: the number deleted. */
  async deleteExpiredArchives(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const rows = await this.repo.archivesToDelete(this.o.clock.now(), 100);
      for (const row of rows) {
        await this.o.archiveStore.delete(row.archiveKey);
        await this.repo.archiveDeleted(row.id);
        deleted++;
      }
      if (rows.length < 100) return deleted;
    }
  }
}
