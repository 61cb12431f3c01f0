/**
 * Intake: where an upload goes (checked before a byte of the body is read), then the file part
 * into a private staging file, counted and hashed as it arrives, then the pipeline. The route
 * reads the form; this file owns what happens to the bytes until they reach `advance()`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, httpErrors, isStorageFull } from '../../http/errors.js';
import { newId } from '../../platform/ids.js';
import type { Actor } from '../../users/policy.js';
import type { RequestContext } from '../audit/event.js';
import { uploadErrors } from './errors.js';
import {
  authorizedParent,
  maxBytesFor,
  tooLargeFor,
  type MediaParent,
  type StagedUpload,
  type UploadServiceOptions,
  type UploadTarget,
} from './media.js';
import type { UploadPipeline } from './pipeline.js';
import type { MediaRepository, MediaRow } from './repository.js';
import {
  extensionOf,
  kindOfCategory,
  normaliseDeclared,
  sanitiseFileName,
  typeByExtension,
  type Category,
} from './types.js';

/** The file part as the route hands it over. */
export interface FilePart {
  category: Category;
  isDefaultResume: boolean;
  /** A site language (checked enabled here), or null for every language. */
  language: string | null;
  filename: string | undefined;
  mimetype: string | undefined;
  stream: Readable;
}

/** Counts and hashes bytes on their way to the staging file; fails past `max`. */
class CountingHash extends Transform {
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

export class UploadIntake {
  constructor(
    private readonly o: UploadServiceOptions,
    private readonly repo: MediaRepository,
    private readonly pipeline: UploadPipeline,
  ) {}

  /** Where an upload goes, checked before a byte of the body is read. */
  async target(actor: Actor, parent: MediaParent, id: string): Promise<UploadTarget> {
    const found = await authorizedParent(this.repo, actor, 'write', parent, id);
    return {
      portfolioId: found.portfolioId,
      projectId: parent === 'project' ? id : null,
      sectionId: parent === 'section' ? id : null,
      experienceId: parent === 'experience' ? id : null,
      ownerId: found.ownerId,
    };
  }

  /**
   * Creates the `staged` row and streams the file part into a private staging file, counting and
   * hashing as it goes. Refuses at once a name whose extension is not allowed for the category,
   * and anything past the size limit of the kind (the rest of the stream is not read).
   */
  async stage(actor: Actor, target: UploadTarget, part: FilePart): Promise<StagedUpload> {
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
    const create = {
      id,
      portfolioId: target.portfolioId,
      projectId: target.projectId,
      sectionId: target.sectionId,
      experienceId: target.experienceId,
      language: part.language,
      uploadedBy: actor.userId,
      kind,
      category: part.category,
      isDefaultResume: false,
      originalName: name,
      declaredType: declared.slice(0, 100),
      extension: ext,
      now,
    };
    const language = part.language;
    if (language === null || !this.o.languages) await this.repo.create(create);
    else {
      const languages = this.o.languages;
      // The language is held (for share) until the row names it, so it cannot be disabled in between.
      await this.o.db.transaction(async (tx) => {
        if ((await languages.lockEnabled([language], tx)).length !== 1) {
          part.stream.resume();
          throw uploadErrors.languageNotEnabled('language', language);
        }
        await this.repo.create(create, tx);
      });
    }
    const max = maxBytesFor(this.o.settings, kind);
    const counter = new CountingHash(max, () => tooLargeFor(kind, max));
    try {
      await pipeline(part.stream, counter, createWriteStream(file, { mode: 0o600, flags: 'wx' }));
      // @fastify/multipart stops at its own fileSize limit and marks the stream truncated.
      if ((part.stream as Readable & { truncated?: boolean }).truncated) throw tooLargeFor(kind, max);
    } catch (err) {
      await rm(file, { force: true });
      const error =
        err instanceof AppError
          ? err
          : (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE'
            ? tooLargeFor(kind, max)
            : isStorageFull(err)
              ? // A full disk: the row ends `rejected` (final), the partial staging file is gone.
                httpErrors.insufficientStorage(err)
              : err;
      if (error instanceof AppError) await this.pipeline.reject(id, error, actor.userId);
      else await this.repo.delete(id);
      throw error;
    }
    await this.repo.update(id, { size: counter.size, sha256: counter.hash.digest('hex') }, this.o.clock.now());
    if (part.isDefaultResume) await this.setDefaultResume(id, target.portfolioId, part.language);
    const row = await this.repo.get(id);
    if (!row) throw new Error('staged media row vanished');
    return { row, file };
  }

  private async setDefaultResume(id: string, portfolioId: string, language: string | null): Promise<void> {
    try {
      await this.o.db.transaction(async (tx) => {
        const now = this.o.clock.now();
        await this.repo.clearDefaultResume(portfolioId, language, now, tx);
        await this.repo.update(id, { isDefaultResume: true }, now, tx);
      });
    } catch {
      throw uploadErrors.defaultResumeConflict();
    }
  }

  /** Runs the staged upload through the pipeline; the staging file is gone afterwards. */
  async ingest(staged: StagedUpload, context: Partial<RequestContext> = {}): Promise<MediaRow> {
    try {
      return await this.pipeline.advance(staged.row, staged.file, { context });
    } finally {
      await rm(staged.file, { force: true });
    }
  }
}
