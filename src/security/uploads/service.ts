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
 * bytes are deleted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileTypeFromFile } from 'file-type';
import { hrefOf, type PublicUrlSource } from '../../config/public-url.js';
import { AppError } from '../../http/errors.js';
import type { BlobStore } from '../../platform/blob/index.js';
import type { ClamdClient, ScanResult } from '../../platform/clamd/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import { newId } from '../../platform/ids.js';
import { authorizeContent, requirePermission, type Actor } from '../../users/policy.js';
import { AUDIT_ACTIONS } from '../audit/actions.js';
import type { AuditEventInput, RequestContext } from '../audit/event.js';
import { uploadErrors } from './errors.js';
import { probeImage, sanitiseImage, type ImageLimits, type ImageProbe } from './images.js';
import { IntegrityError, VerifyingStream } from './integrity.js';
import { EncryptedPdfError, loadPdf, sanitisePdf } from './pdf.js';
import { MediaRepository, type MediaRow, type MediaUpdate, type StoredVariant, type Variants } from './repository.js';
import { MAX_URL_TTL, type Disposition, type UrlSigner, type Variant } from './signing.js';
import {
  contentDisposition,
  extensionOf,
  kindOfCategory,
  normaliseDeclared,
  sanitiseFileName,
  typeByExtension,
  typeByMime,
  type AllowedType,
  type Category,
  type MediaKind,
} from './types.js';

export interface UploadSettings {
  maxImageBytes: number;
  maxDocumentBytes: number;
  image: ImageLimits;
  urlTtl: number;
  scan: 'on' | 'off';
  /** Private folder for staging files (never served). */
  stagingDir: string;
  /** The public base URL (`app.publicUrl`), read when a link is signed. */
  publicUrl: PublicUrlSource;
}

/** Called when a file is found infected (after the audit event is written). */
export interface InfectionNotifier {
  infected(notice: { media: MediaRow; signature: string; adminIds: string[] }): Promise<void>;
}

export interface UploadServiceOptions {
  db: Db;
  clock: Clock;
  audit: { record(event: AuditEventInput, tx?: Queryable): Promise<void> };
  store: BlobStore;
  scanner: Pick<ClamdClient, 'scan' | 'version'> | null;
  signer: UrlSigner;
  settings: UploadSettings;
  notifier?: InfectionNotifier | undefined;
  log?: { warn(obj: object, msg: string): void; info?(obj: object, msg: string): void };
}

export interface MediaJson {
  id: string;
  portfolioId: string;
  projectId: string | null;
  kind: MediaKind;
  category: Category;
  isDefaultResume: boolean;
  status: MediaRow['status'];
  statusReason: string | null;
  name: string;
  contentType: string | null;
  size: number;
  sha256: string | null;
  width: number | null;
  height: number | null;
  variants: string[];
  scan: {
    verdict: MediaRow['scanVerdict'];
    signature: string | null;
    scannerVersion: string | null;
    scannedAt: string | null;
  };
  createdAt: string;
  updatedAt: string;
}

export interface PublicMedia {
  id: string;
  projectId: string | null;
  kind: MediaKind;
  category: Category;
  isDefaultResume: boolean;
  name: string;
  contentType: string;
  width: number | null;
  height: number | null;
  url: string;
  thumbnailUrl: string | null;
  expiresAt: string;
}

/** What the route hands over once the file part has been written to staging. */
export interface StagedUpload {
  row: MediaRow;
  file: string;
}

export interface UploadTarget {
  portfolioId: string;
  projectId: string | null;
  ownerId: string;
}

const iso = (d: Date | string | null) => (d === null ? null : (d instanceof Date ? d : new Date(d)).toISOString());

export function toMediaJson(row: MediaRow): MediaJson {
  const main = row.variants.display ?? row.variants.original;
  return {
    id: row.id,
    portfolioId: row.portfolioId,
    projectId: row.projectId,
    kind: row.kind,
    category: row.category,
    isDefaultResume: row.isDefaultResume,
    status: row.status,
    statusReason: row.statusReason,
    name: row.originalName,
    contentType: main?.contentType ?? row.detectedType,
    size: main?.size ?? Number(row.size),
    sha256: main?.sha256 ?? null,
    width: row.width,
    height: row.height,
    variants: Object.keys(row.variants).sort(),
    scan: {
      verdict: row.scanVerdict,
      signature: row.scanSignature,
      scannerVersion: row.scannerVersion,
      scannedAt: iso(row.scannedAt),
    },
    createdAt: iso(row.createdAt) ?? '',
    updatedAt: iso(row.updatedAt) ?? '',
  };
}

/** Retry delay after the n-th failed scan: 30 s doubling to at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/** Counts and hashes bytes on their way to the staging file; fails past `max`. */
class Intake extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  constructor(
    private readonly max: number,
    private readonly tooLarge: () => AppError,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.max) {
      callback(this.tooLarge());
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }
}

interface Validated {
  type: AllowedType;
  probe: ImageProbe | null;
}

/** Media a public portfolio read lists at most. */
export const PUBLIC_MEDIA_LIMIT = 200;

export class UploadService {
  readonly repo: MediaRepository;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly o: UploadServiceOptions) {
    this.repo = new MediaRepository(o.db);
  }

  get settings(): UploadSettings {
    return this.o.settings;
  }

  get scannerConfigured(): boolean {
    return this.o.scanner !== null;
  }

  /** Waits for background work started by requests (integrity quarantines); for tests and shutdown. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.o.log?.warn({ err }, 'uploads: background task failed'));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  // ---- authorization ----------------------------------------------------------------------

  /** Where an upload goes, checked before a byte of the body is read. */
  async target(actor: Actor, parent: 'portfolio' | 'project', id: string): Promise<UploadTarget> {
    const found = parent === 'portfolio' ? await this.repo.portfolioOwner(id) : await this.repo.projectParent(id);
    authorizeContent(actor, 'write', found, parent === 'portfolio' ? 'Portfolio' : 'Project');
    return { portfolioId: found.portfolioId, projectId: parent === 'project' ? id : null, ownerId: found.ownerId };
  }

  private async readable(actor: Actor, id: string, action: 'read' | 'write'): Promise<MediaRow> {
    const row = await this.repo.get(id);
    authorizeContent(actor, action, row, 'Media');
    return row;
  }

  maxBytesFor(kind: MediaKind): number {
    return kind === 'image' ? this.o.settings.maxImageBytes : this.o.settings.maxDocumentBytes;
  }

  // ---- intake -----------------------------------------------------------------------------

  /**
   * Creates the `staged` row and streams the file part into a private staging file, counting and
   * hashing as it goes. Refuses at once a name whose extension is not allowed for the category,
   * and anything past the size limit of the kind (the rest of the stream is not read).
   */
  async stage(
    actor: Actor,
    target: UploadTarget,
    part: {
      category: Category;
      isDefaultResume: boolean;
      filename: string | undefined;
      mimetype: string | undefined;
      stream: Readable;
    },
  ): Promise<StagedUpload> {
    const kind = kindOfCategory(part.category);
    const name = sanitiseFileName(part.filename);
    const ext = extensionOf(name);
    const declared = normaliseDeclared(part.mimetype);
    const byExt = typeByExtension(ext);
    if (!byExt) {
      part.stream.resume();
      throw uploadErrors.unsupported(
        ext === 'svg'
          ? 'SVG images are not accepted (they can carry script)'
          : `Files ending in ".${ext || '(none)'}" are not accepted; use jpeg, png, webp, gif, avif or pdf`,
      );
    }
    if (byExt.kind !== kind) {
      part.stream.resume();
      throw uploadErrors.mismatch(`A ${byExt.extensions[0]} file cannot be a ${part.category}`);
    }
    const id = newId();
    await mkdir(this.o.settings.stagingDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.o.settings.stagingDir, `${id}-${randomBytes(4).toString('hex')}.upload`);
    const now = this.o.clock.now();
    await this.repo.create({
      id,
      portfolioId: target.portfolioId,
      projectId: target.projectId,
      uploadedBy: actor.userId,
      kind,
      category: part.category,
      isDefaultResume: false,
      originalName: name,
      declaredType: declared.slice(0, 100),
      extension: ext,
      now,
    });
    const max = this.maxBytesFor(kind);
    const intake = new Intake(max, () => uploadErrors.tooLarge(kind === 'image' ? 'An image' : 'A document', max));
    try {
      await pipeline(part.stream, intake, createWriteStream(file, { mode: 0o600, flags: 'wx' }));
      // @fastify/multipart stops at its own fileSize limit and marks the stream truncated.
      if ((part.stream as Readable & { truncated?: boolean }).truncated)
        throw uploadErrors.tooLarge(kind === 'image' ? 'An image' : 'A document', max);
    } catch (err) {
      await rm(file, { force: true });
      const error =
        err instanceof AppError
          ? err
          : (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE'
            ? uploadErrors.tooLarge(kind === 'image' ? 'An image' : 'A document', max)
            : err;
      if (error instanceof AppError) await this.reject(id, error, actor.userId);
      else await this.repo.delete(id);
      throw error;
    }
    await this.repo.update(id, { size: intake.size, sha256: intake.hash.digest('hex') }, this.o.clock.now());
    if (part.isDefaultResume) await this.setDefaultResume(id, target.portfolioId);
    const row = await this.repo.get(id);
    if (!row) throw new Error('staged media row vanished');
    return { row, file };
  }

  private async setDefaultResume(id: string, portfolioId: string): Promise<void> {
    try {
      await this.o.db.transaction(async (tx) => {
        const now = this.o.clock.now();
        await this.repo.clearDefaultResume(portfolioId, now, tx);
        await this.repo.update(id, { isDefaultResume: true }, now, tx);
      });
    } catch {
      throw uploadErrors.defaultResumeConflict();
    }
  }

  /** Runs the staged upload through the pipeline; the staging file is gone afterwards. */
  async ingest(staged: StagedUpload, context: Partial<RequestContext> = {}): Promise<MediaRow> {
    try {
      return await this.advance(staged.row, staged.file, { context });
    } finally {
      await rm(staged.file, { force: true });
    }
  }

  // ---- the pipeline -----------------------------------------------------------------------

  /**
   * Moves a row from wherever it is to `available`, `quarantined` or `rejected`. `skipScan` is
   * the admin release (the admin vouches for the file; it is still validated and sanitised).
   */
  private async advance(
    row: MediaRow,
    file: string,
    options: { skipScan?: boolean; context?: Partial<RequestContext>; actor?: string } = {},
  ): Promise<MediaRow> {
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
      let outputs: {
        variant: Variant;
        file: string;
        contentType: string;
        width: number | null;
        height: number | null;
      }[];
      try {
        outputs = await this.sanitise(validated, file, dir);
      } catch (err) {
        if (err instanceof AppError && err.status < 500) {
          await this.reject(row.id, err, actor, options.context);
        }
        throw err;
      }
      await this.repo.update(row.id, { status: 'sanitised' }, this.o.clock.now());
      const variants: Variants = {};
      const ext = validated.type.extensions[0] ?? 'bin';
      for (const out of outputs) {
        const key = `objects/${row.id}/${out.variant}.${ext}`;
        const { size, sha256 } = await hashFile(out.file);
        await this.o.store.put(key, createReadStream(out.file), { contentType: out.contentType, contentLength: size });
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
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return this.mustGet(row.id);
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
  private async quarantine(
    row: MediaRow,
    file: string | null,
    reason: 'infected' | 'scan_failed' | 'scan_unavailable' | 'unscannable' | 'integrity',
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
    const updated = await this.mustGet(row.id);
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

  private async reject(
    id: string,
    error: AppError,
    actor: string,
    context: Partial<RequestContext> = {},
  ): Promise<void> {
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
          actor: /^[0-9a-f-]{36}$/i.test(actor) ? actor : 'system',
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

  private async validate(row: MediaRow, file: string): Promise<Validated> {
    const { size } = await stat(file);
    if (size === 0) throw uploadErrors.empty();
    const max = this.maxBytesFor(row.kind);
    if (size > max) throw uploadErrors.tooLarge(row.kind === 'image' ? 'An image' : 'A document', max);
    const byExt = typeByExtension(row.extension ?? '');
    if (!byExt || byExt.kind !== row.kind) throw uploadErrors.unsupported('The file type is not accepted');
    const detected = await fileTypeFromFile(file);
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

  private async sanitise(
    validated: Validated,
    file: string,
    dir: string,
  ): Promise<{ variant: Variant; file: string; contentType: string; width: number | null; height: number | null }[]> {
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

  private async mustGet(id: string): Promise<MediaRow> {
    const row = await this.repo.get(id);
    if (!row) throw uploadErrors.notFound();
    return row;
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
    const claimed = await this.mustGet(row.id);
    const file = await this.fetchOriginal(claimed);
    try {
      return await this.advance(claimed, file, { actor: 'system' });
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return this.mustGet(row.id);
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
        await this.quarantine(row, null, 'integrity', { detail: `variant ${variant.key} changed on storage` });
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
        await this.quarantine(row, null, 'infected', {
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

  // ---- reads, links, deletes --------------------------------------------------------------

  async get(actor: Actor, id: string): Promise<MediaJson> {
    return toMediaJson(await this.readable(actor, id, 'read'));
  }

  async list(
    actor: Actor,
    parent: 'portfolio' | 'project',
    parentId: string,
    page: { limit: number; after?: string | undefined },
  ): Promise<MediaRow[]> {
    const found =
      parent === 'portfolio' ? await this.repo.portfolioOwner(parentId) : await this.repo.projectParent(parentId);
    authorizeContent(actor, 'read', found, parent === 'portfolio' ? 'Portfolio' : 'Project');
    return this.repo.listByParent({
      ...(parent === 'portfolio' ? { portfolioId: parentId } : { projectId: parentId }),
      ...page,
    });
  }

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
    options: { variant?: Variant | undefined; disposition?: Disposition | undefined; ttl?: number | undefined },
    preloaded?: MediaRow,
  ): Promise<{ url: string; expiresAt: string }> {
    const row = preloaded ?? (actor ? await this.readable(actor, id, 'read') : await this.mustGet(id));
    if (row.status !== 'available') throw uploadErrors.notAvailable(row.status);
    const grant = this.grantFor(row, options.variant, options.disposition);
    const ttl = Math.min(options.ttl ?? this.o.settings.urlTtl, MAX_URL_TTL);
    const now = this.o.clock.now();
    const expires = Math.floor(now.getTime() / 1000) + ttl;
    const expiresAt = new Date(expires * 1000).toISOString();
    if (this.o.store.presignGet) {
      const url = await this.o.store.presignGet(grant.stored.key, {
        expiresIn: ttl,
        contentDisposition: contentDisposition(grant.disposition, this.downloadName(row, grant.variant)),
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

  private downloadName(row: MediaRow, variant: Variant): string {
    if (variant !== 'thumbnail') return row.originalName;
    const ext = path.extname(row.originalName);
    return `${row.originalName.slice(0, row.originalName.length - ext.length)}-thumbnail${ext}`;
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
        'content-disposition': contentDisposition(disposition, this.downloadName(row, grant.variant)),
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
    await this.quarantine(current, null, 'integrity', {
      detail: `variant ${stored.key}: expected sha256 ${err.expected.sha256}, read ${err.actual.sha256}`,
    });
  }

  /** Deletes a file and its stored objects (owner, editor or admin). */
  async delete(actor: Actor, id: string, context: Partial<RequestContext> = {}, reason?: string): Promise<void> {
    const row = await this.readable(actor, id, 'write');
    await this.remove(row, actor.userId, context, reason);
  }

  private async remove(
    row: MediaRow,
    actorId: string,
    context: Partial<RequestContext>,
    reason?: string,
  ): Promise<void> {
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

  // ---- quarantine admin -------------------------------------------------------------------

  async listQuarantine(actor: Actor, page: { limit: number; after?: string | undefined }): Promise<MediaRow[]> {
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
    const row = await this.mustGet(id);
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
      return this.mustGet(id);
    }
    const file = await this.fetchOriginal(row);
    try {
      return await this.advance(row, file, { skipScan: true, context, actor: actor.userId });
    } finally {
      await rm(file, { force: true });
    }
  }

  async adminDelete(actor: Actor, id: string, reason: string, context: Partial<RequestContext> = {}): Promise<void> {
    requirePermission(actor, 'security:manage');
    const row = await this.mustGet(id);
    if (row.status !== 'quarantined') throw uploadErrors.notQuarantined(row.status);
    await this.remove(row, actor.userId, context, reason);
  }

  // ---- public read ------------------------------------------------------------------------

  /** Available media of a published portfolio, each with a fresh signed link. */
  async publicMedia(portfolioId: string): Promise<PublicMedia[]> {
    return this.publicMediaOf(await this.repo.listAvailableByPortfolio(portfolioId, PUBLIC_MEDIA_LIMIT));
  }

  /** The public payload's media items for rows already read (the public read's one statement). */
  async publicMediaOf(rows: readonly MediaRow[]): Promise<PublicMedia[]> {
    const out: PublicMedia[] = [];
    for (const row of rows) {
      const main = await this.link(null, row.id, {}, row);
      const thumb = row.variants.thumbnail ? await this.link(null, row.id, { variant: 'thumbnail' }, row) : null;
      const stored = row.variants.display ?? row.variants.original;
      out.push({
        id: row.id,
        projectId: row.projectId,
        kind: row.kind,
        category: row.category,
        isDefaultResume: row.isDefaultResume,
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

async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}
