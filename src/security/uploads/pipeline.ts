/**
 * The one ingestion path. Every upload, every retry and every admin release goes through
 * `advance()`, in this order, and only the last step makes a file servable:
 *
 *   staged     the bytes are in a private staging file (never served), hashed as they arrived
 *   validated  size, extension, declared type and magic number agree; the header was probed
 *              (pixel and frame limits, PDF structure and encryption)
 *   scanned    clamd said `clean` (UPLOAD_SCAN=off skips this, outside production only)
 *   sanitised  images re-encoded without metadata, PDFs rebuilt without active content
 *   available  the sanitised bytes are stored with their SHA-256: the only servable state
 *
 * Fail-closed: a scan that errors or times out is never clean. The original then waits in
 * quarantine (a private blob) with `scan_failed` and a retry time; without a scanner it waits as
 * `scan_unavailable`; an infected file waits as `infected` for an admin, and its owner and the
 * admins are notified. Refusals (wrong type, too large, undecodable) end as `rejected` and their
 * bytes are deleted. `remove()` is the other end of a file's life: the row, then its objects.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, httpErrors, isStorageFull } from '../../http/errors.js';
import type { ScanResult } from '../../platform/clamd/index.js';
import { isUuid } from '../../platform/ids.js';
import { lazyModule } from '../../platform/lazy.js';
import { AUDIT_ACTIONS } from '../audit/actions.js';
import type { RequestContext } from '../audit/event.js';
import { uploadErrors } from './errors.js';
import { probeImage, sanitiseImage, type ImageProbe } from './images.js';
import { maxBytesFor, mustGet, retryDelayMs, tooLargeFor, type UploadServiceOptions } from './media.js';
import { EncryptedPdfError, loadPdf, sanitisePdf } from './pdf.js';
import type { MediaRepository, MediaRow, MediaUpdate, Variants } from './repository.js';
import type { Variant } from './signing.js';
import { typeByExtension, typeByMime, type AllowedType } from './types.js';

interface Validated {
  type: AllowedType;
  probe: ImageProbe | null;
}

/** One sanitised output file, before it is stored. */
interface Output {
  variant: Variant;
  file: string;
  contentType: string;
  width: number | null;
  height: number | null;
}

export type QuarantineReason = 'infected' | 'scan_failed' | 'scan_unavailable' | 'unscannable' | 'integrity';

export interface AdvanceOptions {
  /** The admin release: the admin vouches for the file; it is still validated and sanitised. */
  skipScan?: boolean;
  context?: Partial<RequestContext>;
  actor?: string;
}

/** file-type (magic numbers) loads with the first upload, like sharp and pdf-lib behind it. */
const loadFileType = lazyModule((): Promise<typeof import('file-type')> => import('file-type'));

export class UploadPipeline {
  constructor(
    private readonly o: UploadServiceOptions,
    private readonly repo: MediaRepository,
  ) {}

  /** Moves a row from wherever it is to `available`, `quarantined` or `rejected`. */
  async advance(row: MediaRow, file: string, options: AdvanceOptions = {}): Promise<MediaRow> {
    const actor = options.actor ?? row.uploadedBy ?? 'system';
    let validated: Validated;
    try {
      validated = await this.validate(row, file);
    } catch (err) {
      if (err instanceof EncryptedPdfError) {
        return this.quarantine(
          row,
          file,
          'unscannable',
          { detail: 'encrypted PDF: its content cannot be scanned or sanitised' },
          options.context,
        );
      }
      if (err instanceof AppError && err.status < 500) {
        await this.reject(row.id, err, actor, options.context);
        throw err;
      }
      throw err;
    }
    await this.repo.update(
      row.id,
      { status: 'validated', detectedType: validated.type.mime, statusReason: null },
      this.o.clock.now(),
    );

    if (!options.skipScan) {
      const scanned = await this.scanStep(row, file, options.context);
      if (scanned) return scanned;
    }

    const dir = path.join(this.o.settings.stagingDir, `${row.id}-${randomBytes(4).toString('hex')}.out`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      let outputs: Output[];
      try {
        outputs = await this.sanitise(validated, file, dir);
      } catch (err) {
        if (err instanceof AppError && err.status < 500) {
          await this.reject(row.id, err, actor, options.context);
        }
        throw err;
      }
      await this.repo.update(row.id, { status: 'sanitised' }, this.o.clock.now());
      await this.store(row, validated, outputs);
    } catch (err) {
      // A full disk while sanitising or storing: the row ends `rejected` (a final state, not
      // `validated` or `sanitised` for ever) and the client gets 507 INSUFFICIENT_STORAGE.
      if (!(err instanceof AppError) && isStorageFull(err)) {
        const full = httpErrors.insufficientStorage(err);
        await this.reject(row.id, full, actor, options.context);
        throw full;
      }
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return mustGet(this.repo, row.id);
  }

  /** Stores the sanitised outputs with their hashes: the step that makes a file `available`. */
  private async store(row: MediaRow, validated: Validated, outputs: Output[]): Promise<void> {
    const variants: Variants = {};
    const ext = validated.type.extensions[0] ?? 'bin';
    const stored: string[] = [];
    for (const out of outputs) {
      const key = `objects/${row.id}/${out.variant}.${ext}`;
      const { size, sha256 } = await hashFile(out.file);
      try {
        await this.o.store.put(key, createReadStream(out.file), { contentType: out.contentType, contentLength: size });
      } catch (err) {
        // No variant of a file that never became available stays behind (a full disk, a store outage).
        for (const k of stored) await this.o.store.delete(k).catch(() => undefined);
        throw err;
      }
      stored.push(key);
      variants[out.variant] = {
        key,
        size,
        sha256,
        contentType: out.contentType,
        width: out.width,
        height: out.height,
      };
    }
    const main = variants.display ?? variants.original;
    await this.repo.update(
      row.id,
      {
        status: 'available',
        statusReason: null,
        variants,
        width: main?.width ?? null,
        height: main?.height ?? null,
        quarantineKey: null,
        nextScanAt: null,
      },
      this.o.clock.now(),
    );
    if (row.quarantineKey) await this.o.store.delete(row.quarantineKey);
  }

  /** Returns the quarantined row when the scan did not say clean; null to go on. */
  private async scanStep(row: MediaRow, file: string, context?: Partial<RequestContext>): Promise<MediaRow | null> {
    if (this.o.settings.scan === 'off') return null;
    if (!this.o.scanner) {
      return this.quarantine(
        row,
        file,
        'scan_unavailable',
        { detail: 'no virus scanner is configured (CLAMAV_URL)' },
        context,
      );
    }
    const result: ScanResult = await this.o.scanner.scan(createReadStream(file));
    const now = this.o.clock.now();
    const scanFields: MediaUpdate = {
      scanVerdict: result.verdict,
      scanSignature: result.verdict === 'infected' ? result.signature.slice(0, 300) : null,
      scannerVersion: result.version,
      scannedAt: now,
    };
    if (result.verdict === 'clean') {
      await this.repo.update(row.id, { ...scanFields, status: 'scanned', scanAttempts: 0 }, now);
      return null;
    }
    await this.repo.update(row.id, scanFields, now);
    if (result.verdict === 'infected') {
      return this.quarantine(row, file, 'infected', { signature: result.signature }, context);
    }
    return this.quarantine(row, file, 'scan_failed', { detail: result.reason }, context);
  }

  /**
   * Keeps the original in the private quarantine area and records why. Scan failures get a retry
   * time; an infected file notifies its owner and the admins.
   */
  async quarantine(
    row: MediaRow,
    file: string | null,
    reason: QuarantineReason,
    details: { detail?: string; signature?: string },
    context: Partial<RequestContext> = {},
  ): Promise<MediaRow> {
    let quarantineKey = row.quarantineKey;
    if (file && !quarantineKey) {
      quarantineKey = `quarantine/${row.id}/original.${row.extension && /^[a-z0-9]{1,10}$/.test(row.extension) ? row.extension : 'bin'}`;
      await this.o.store.put(quarantineKey, createReadStream(file));
    }
    const attempts =
      reason === 'scan_failed' || reason === 'scan_unavailable' ? row.scanAttempts + 1 : row.scanAttempts;
    const now = this.o.clock.now();
    const retry = reason === 'scan_failed' || reason === 'scan_unavailable';
    await this.o.db.transaction(async (tx) => {
      await this.repo.update(
        row.id,
        {
          status: 'quarantined',
          statusReason: reason,
          quarantineKey,
          scanAttempts: attempts,
          nextScanAt: retry ? new Date(now.getTime() + retryDelayMs(attempts)) : null,
        },
        now,
        tx,
      );
      await this.o.audit.record(
        {
          action:
            reason === 'infected'
              ? AUDIT_ACTIONS.mediaInfected
              : reason === 'integrity'
                ? AUDIT_ACTIONS.mediaIntegrityFailed
                : AUDIT_ACTIONS.mediaQuarantined,
          actor: 'system',
          outcome: reason === 'infected' || reason === 'integrity' ? 'denied' : 'failure',
          target: { type: 'media', id: row.id },
          ...context,
          metadata: {
            reason,
            portfolioId: row.portfolioId,
            ownerId: row.ownerId,
            uploadedBy: row.uploadedBy,
            ...(details.signature ? { signature: details.signature } : {}),
            ...(details.detail ? { detail: details.detail.slice(0, 300) } : {}),
            attempts,
          },
        },
        tx,
      );
    });
    const updated = await mustGet(this.repo, row.id);
    if (reason === 'infected') await this.notifyInfected(updated, details.signature ?? 'unknown');
    return updated;
  }

  private async notifyInfected(media: MediaRow, signature: string): Promise<void> {
    const adminIds = await this.repo.adminIds();
    try {
      await this.o.notifier?.infected({ media, signature, adminIds });
    } catch (err) {
      // The audit event is written; a failed notice must not undo the quarantine.
      this.o.log?.warn({ err, mediaId: media.id }, 'uploads: infection notice failed');
    }
  }

  /** Ends a refused file as `rejected` (audited); a quarantined original is deleted. */
  async reject(id: string, error: AppError, actor: string, context: Partial<RequestContext> = {}): Promise<void> {
    const row = await this.repo.get(id);
    await this.o.db.transaction(async (tx) => {
      await this.repo.update(
        id,
        { status: 'rejected', statusReason: error.code, nextScanAt: null },
        this.o.clock.now(),
        tx,
      );
      await this.o.audit.record(
        {
          action: AUDIT_ACTIONS.mediaRejected,
          actor: isUuid(actor) ? actor : 'system',
          outcome: 'failure',
          target: { type: 'media', id },
          ...context,
          metadata: { code: error.code, detail: error.message.slice(0, 300), portfolioId: row?.portfolioId ?? null },
        },
        tx,
      );
    });
    if (row?.quarantineKey) {
      await this.o.store.delete(row.quarantineKey);
      await this.repo.update(id, { quarantineKey: null }, this.o.clock.now());
    }
  }

  /** Deletes a row (audited), then its stored objects. */
  async remove(row: MediaRow, actorId: string, context: Partial<RequestContext>, reason?: string): Promise<void> {
    await this.o.db.transaction(async (tx) => {
      await this.repo.delete(row.id, tx);
      await this.o.audit.record(
        {
          action: AUDIT_ACTIONS.mediaDeleted,
          actor: actorId,
          outcome: 'success',
          target: { type: 'media', id: row.id },
          ...context,
          metadata: {
            status: row.status,
            statusReason: row.statusReason,
            portfolioId: row.portfolioId,
            ...(reason ? { reason } : {}),
          },
        },
        tx,
      );
    });
    // Objects go after the row: a crash in between leaves unreferenced bytes, never a row that points nowhere.
    for (const key of [...Object.values(row.variants).map((v) => v.key), row.quarantineKey]) {
      if (key)
        await this.o.store
          .delete(key)
          .catch((err: unknown) => this.o.log?.warn({ err, key }, 'uploads: could not delete an object'));
    }
  }

  private async validate(row: MediaRow, file: string): Promise<Validated> {
    const { size } = await stat(file);
    if (size === 0) throw uploadErrors.empty();
    const max = maxBytesFor(this.o.settings, row.kind);
    if (size > max) throw tooLargeFor(row.kind, max);
    const byExt = typeByExtension(row.extension ?? '');
    if (!byExt || byExt.kind !== row.kind) throw uploadErrors.unsupported('The file type is not accepted');
    const detected = await (await loadFileType()).fileTypeFromFile(file);
    if (!detected)
      throw uploadErrors.mismatch(
        `The content is not a ${byExt.extensions[0]} file (its type could not be recognised)`,
      );
    const byMagic = typeByMime(detected.mime);
    if (!byMagic) throw uploadErrors.mismatch(`The content is ${detected.mime}, which is not accepted`);
    if (byMagic !== byExt)
      throw uploadErrors.mismatch(`The name says ${byExt.extensions[0]} but the content is ${detected.mime}`);
    const declared = row.declaredType ?? '';
    if (!byExt.declared.includes(declared)) {
      throw uploadErrors.mismatch(
        `The declared type "${declared.slice(0, 60)}" does not match the content (${detected.mime})`,
      );
    }
    if (byExt.kind === 'image') {
      return { type: byExt, probe: await probeImage(file, byExt.mime, this.o.settings.image) };
    }
    await loadPdf(await readFile(file));
    return { type: byExt, probe: null };
  }

  private async sanitise(validated: Validated, file: string, dir: string): Promise<Output[]> {
    if (validated.type.kind === 'image' && validated.probe) {
      const ext = validated.type.extensions[0] ?? 'img';
      const variants = await sanitiseImage(file, validated.type.mime, validated.probe, this.o.settings.image, {
        display: path.join(dir, `display.${ext}`),
        thumbnail: path.join(dir, `thumbnail.${ext}`),
      });
      return variants.map((v) => ({
        variant: v.name,
        file: v.file,
        contentType: v.contentType,
        width: v.width,
        height: v.height,
      }));
    }
    const pdf = await sanitisePdf(await readFile(file));
    const out = path.join(dir, 'original.pdf');
    await pipeline(Readable.from([Buffer.from(pdf.bytes)]), createWriteStream(out, { mode: 0o600 }));
    return [{ variant: 'original', file: out, contentType: 'application/pdf', width: null, height: null }];
  }
}

async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}
