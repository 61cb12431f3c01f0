/**
 * What waits in quarantine, and what puts available files back there. The pipeline quarantines
 * (pipeline.ts `quarantine()`); this file lists quarantined files for an admin, releases one with
 * a reason or deletes it, retries scans that failed or could not run, and rescans available files
 * when the signatures change (the worker, worker.ts, calls the last two).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../http/errors.js';
import { requirePermission, type Actor } from '../../users/policy.js';
import { AUDIT_ACTIONS } from '../audit/actions.js';
import type { RequestContext } from '../audit/event.js';
import { uploadErrors } from './errors.js';
import { IntegrityError, VerifyingStream } from './integrity.js';
import { mustGet, type UploadServiceOptions } from './media.js';
import type { UploadPipeline } from './pipeline.js';
import type { MediaRepository, MediaRow } from './repository.js';

export class UploadQuarantine {
  constructor(
    private readonly o: UploadServiceOptions,
    private readonly repo: MediaRepository,
    private readonly pipeline: UploadPipeline,
  ) {}

  // ---- admin (security:manage) ------------------------------------------------------------

  async list(actor: Actor, page: { limit: number; after?: string | undefined }): Promise<MediaRow[]> {
    requirePermission(actor, 'security:manage');
    return this.repo.listQuarantined(page);
  }

  /**
   * An admin releases a quarantined file with a reason (a false positive, a scanner that will not
   * come back). It is still validated and sanitised; only the scan verdict is overridden.
   * Files quarantined because their stored bytes changed cannot be released: delete them.
   */
  async release(actor: Actor, id: string, reason: string, context: Partial<RequestContext> = {}): Promise<MediaRow> {
    requirePermission(actor, 'security:manage');
    const row = await mustGet(this.repo, id);
    if (row.status !== 'quarantined') throw uploadErrors.notQuarantined(row.status);
    if (row.statusReason === 'integrity') {
      throw new AppError(
        409,
        'MEDIA_NOT_RELEASABLE',
        'Conflict',
        'Files whose stored bytes changed cannot be released; delete it and upload it again',
      );
    }
    await this.o.audit.record({
      action: AUDIT_ACTIONS.mediaReleased,
      actor: actor.userId,
      outcome: 'success',
      target: { type: 'media', id },
      ...context,
      metadata: {
        reason,
        quarantineReason: row.statusReason,
        scanVerdict: row.scanVerdict,
        scanSignature: row.scanSignature,
        portfolioId: row.portfolioId,
      },
    });
    if (!row.quarantineKey) {
      // Quarantined by a rescan: the sanitised variants are still stored.
      const now = this.o.clock.now();
      await this.repo.update(id, { status: 'available', statusReason: null, nextScanAt: null }, now);
      return mustGet(this.repo, id);
    }
    const file = await this.fetchOriginal(row);
    try {
      return await this.pipeline.advance(row, file, { skipScan: true, context, actor: actor.userId });
    } finally {
      await rm(file, { force: true });
    }
  }

  async delete(actor: Actor, id: string, reason: string, context: Partial<RequestContext> = {}): Promise<void> {
    requirePermission(actor, 'security:manage');
    const row = await mustGet(this.repo, id);
    if (row.status !== 'quarantined') throw uploadErrors.notQuarantined(row.status);
    await this.pipeline.remove(row, actor.userId, context, reason);
  }

  // ---- background: retries and rescans ----------------------------------------------------

  /** Fetches a quarantined original into a staging file. */
  private async fetchOriginal(row: MediaRow): Promise<string> {
    if (!row.quarantineKey) throw new Error(`media ${row.id} has no quarantined original`);
    await mkdir(this.o.settings.stagingDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.o.settings.stagingDir, `${row.id}-${randomBytes(4).toString('hex')}.retry`);
    await pipeline(await this.o.store.get(row.quarantineKey), createWriteStream(file, { mode: 0o600, flags: 'wx' }));
    return file;
  }

  /**
   * One retry of a quarantined upload whose scan failed or could not run. Claims the row first,
   * so several nodes running the worker never scan one file twice.
   */
  async retry(row: MediaRow): Promise<MediaRow | null> {
    if (!this.o.scanner && this.o.settings.scan === 'on') return null;
    const lease = new Date(this.o.clock.now().getTime() + 10 * 60_000);
    if (!(await this.repo.claimRetry(row.id, row.nextScanAt, lease))) return null;
    const claimed = await mustGet(this.repo, row.id);
    const file = await this.fetchOriginal(claimed);
    try {
      return await this.pipeline.advance(claimed, file, { actor: 'system' });
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return mustGet(this.repo, row.id);
      throw err;
    } finally {
      await rm(file, { force: true });
    }
  }

  /**
   * Rescans an available file's stored variants with the current signatures (they changed
   * since its last verdict). Infected → quarantined and notified; an error leaves it for the
   * next run; clean → the new version is recorded. Reads are integrity-checked as well.
   */
  async rescan(row: MediaRow): Promise<'clean' | 'infected' | 'error' | 'integrity'> {
    if (!this.o.scanner) return 'error';
    let version: string | null = null;
    for (const variant of Object.values(row.variants)) {
      let integrity: IntegrityError | null = null;
      const source = (await this.o.store.get(variant.key)).pipe(
        new VerifyingStream({ sha256: variant.sha256, size: variant.size }, (e) => {
          integrity = e;
        }),
      );
      const result = await this.o.scanner.scan(source);
      if (integrity) {
        await this.pipeline.quarantine(row, null, 'integrity', { detail: `variant ${variant.key} changed on storage` });
        return 'integrity';
      }
      if (result.verdict === 'error') return 'error';
      version = result.version;
      if (result.verdict === 'infected') {
        const now = this.o.clock.now();
        await this.repo.update(
          row.id,
          {
            scanVerdict: 'infected',
            scanSignature: result.signature.slice(0, 300),
            scannerVersion: result.version,
            scannedAt: now,
          },
          now,
        );
        await this.pipeline.quarantine(row, null, 'infected', {
          signature: result.signature,
          detail: 'found by a rescan after a signature update',
        });
        return 'infected';
      }
    }
    const now = this.o.clock.now();
    await this.repo.update(
      row.id,
      { scanVerdict: 'clean', scanSignature: null, scannerVersion: version, scannedAt: now },
      now,
    );
    return 'clean';
  }
}
