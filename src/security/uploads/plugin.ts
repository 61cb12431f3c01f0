import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../../config/index.js';
import { PublicVersionRepository } from '../../content/public-read/repository.js';
import { DirBlobStore, openS3BlobStore, s3OptionsFrom, type BlobStore } from '../../platform/blob/index.js';
import { ClamdClient } from '../../platform/clamd/index.js';
import type { Mailer } from '../../platform/mail/mailer.js';
import { loadOrCreateSecret } from '../../platform/secrets/index.js';
import { PUBLIC_MEDIA_LIMIT, type InfectionNotifier } from './media.js';
import { MediaRepository, mediaRowsFromJson } from './repository.js';
import { mediaContentRoutes, mediaRoutes } from './routes.js';
import { uploadErrors } from './errors.js';
import type { MediaStatus } from './repository.js';
import { UploadService } from './service.js';
import { claimStaging } from './staging.js';
import { deriveKey, UrlSigner, type SigningKey } from './signing.js';
import { UploadWorker } from './worker.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Uploaded media: the ingestion pipeline, links, quarantine (src/security/uploads). */
    uploads: UploadService;
    uploadWorker: UploadWorker;
  }
}

export function uploadStorageKind(config: Config): 'dir' | 's3' {
  if (config.UPLOAD_STORAGE === 'auto') return config.AWS_S3_BUCKET ? 's3' : 'dir';
  return config.UPLOAD_STORAGE;
}

export async function openUploadStore(config: Config): Promise<BlobStore> {
  if (uploadStorageKind(config) === 'dir') {
    return new DirBlobStore(path.resolve(config.UPLOAD_DIR ?? path.join(config.DATA_DIR, 'uploads')));
  }
  const options = s3OptionsFrom(config, config.UPLOAD_S3_PREFIX);
  if (!options) throw new Error('UPLOAD_STORAGE=s3 needs AWS_S3_BUCKET');
  return openS3BlobStore(options);
}

/**
 * The URL signing key: UPLOAD_SIGNING_KEY; else derived from JWT_SECRET (which every node shares
 * and production requires); else, embedded only, a key generated once in DATA_DIR/secrets.
 */
export async function signingKeys(config: Config): Promise<{ current: SigningKey; retired: SigningKey[] }> {
  const retired = (config.UPLOAD_SIGNING_OLD_KEYS ?? []).map((k) => ({ id: k.id, key: Buffer.from(k.key) }));
  if (config.UPLOAD_SIGNING_KEY)
    return { current: { id: config.UPLOAD_SIGNING_KEY_ID, key: Buffer.from(config.UPLOAD_SIGNING_KEY) }, retired };
  if (config.JWT_SECRET) return { current: { id: 'jwt', key: deriveKey(config.JWT_SECRET, 'media-url') }, retired };
  const local = await loadOrCreateSecret(config.DATA_DIR, 'upload-signing');
  return { current: { id: 'local', key: deriveKey(local, 'media-url') }, retired };
}

/**
 * The infection notice: an email to the owner and every admin through `app.mail` (the audit
 * event is written either way, by the pipeline).
 */
function mailNotifier(mail: Mailer, repo: MediaRepository): InfectionNotifier {
  return {
    infected: async ({ media, signature, adminIds }) => {
      const users = await repo.noticeRecipients([...new Set([media.ownerId, ...adminIds])]);
      for (const user of users) {
        const isOwner = user.id === media.ownerId;
        await mail.enqueue({
          template: 'upload_infected',
          to: { address: user.email, name: user.name },
          subject: isOwner ? 'A file you uploaded was quarantined' : 'An uploaded file was quarantined as infected',
          text: [
            isOwner
              ? `The virus scanner found "${signature}" in the file "${media.originalName}" you uploaded. It is quarantined and will not be published.`
              : `The virus scanner found "${signature}" in an upload (media ${media.id}, portfolio ${media.portfolioId}). It is quarantined.`,
            '',
            isOwner
              ? 'If you believe this is a mistake, contact an administrator. Check the device you uploaded it from.'
              : 'Review it under GET /api/admin/quarantine; release it with a reason or delete it.',
          ].join('\n'),
        });
      }
    },
  };
}

/**
 * Uploads: `app.uploads`, the media routes (multipart scoped to them), the signed-link route,
 * the quarantine admin and the background worker (retries, rescans). Declares `mail` (infection
 * notices) and `content` (the public portfolio read gets its media from here).
 */
/** The states an upload passes through inside one request; a row left in one was interrupted. */
const IN_FLIGHT: ReadonlySet<MediaStatus> = new Set(['staged', 'validated', 'scanned', 'sanitised']);

/** Rejects (UPLOAD_INTERRUPTED, audited) the uploads a dead process left in flight. */
async function rejectInterrupted(
  service: UploadService,
  ids: readonly string[],
  log: { warn(obj: object, msg: string): void },
): Promise<void> {
  for (const id of ids) {
    const row = await service.repo.get(id);
    if (!row || !IN_FLIGHT.has(row.status)) continue;
    await service.pipeline.reject(id, uploadErrors.interrupted(), 'system');
    log.warn({ mediaId: id, status: row.status }, 'uploads: an upload interrupted by a stopped process was rejected');
  }
}

export const uploadsPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, db, clock } = app.deps;
    const store = await openUploadStore(config);
    const scanner = config.CLAMAV_URL
      ? new ClamdClient({
          url: config.CLAMAV_URL,
          timeoutMs: config.CLAMAV_TIMEOUT * 1000,
          maxStreamBytes: config.CLAMAV_MAX_STREAM,
        })
      : null;
    if (!scanner && config.UPLOAD_SCAN === 'on') {
      app.log.warn(
        'CLAMAV_URL is not set: uploads wait in quarantine (scan_unavailable) until a scanner is configured',
      );
    }
    if (config.UPLOAD_SCAN === 'off')
      app.log.warn('UPLOAD_SCAN=off: uploads are served without a virus scan (development only)');
    // This process's staging folder; what dead processes left is cleared, and their uploads
    // (still staged, validated, scanned or sanitised) are rejected below (./staging.ts).
    const staging = await claimStaging(path.resolve(config.DATA_DIR, 'upload-staging'));
    const keys = await signingKeys(config);
    const service = new UploadService({
      db,
      clock,
      audit: app.audit,
      store,
      scanner,
      signer: new UrlSigner(keys.current, keys.retired),
      settings: {
        maxImageBytes: config.UPLOAD_MAX_IMAGE_BYTES,
        maxDocumentBytes: config.UPLOAD_MAX_DOCUMENT_BYTES,
        image: { maxPixels: config.UPLOAD_MAX_PIXELS, maxFrames: config.UPLOAD_MAX_FRAMES },
        urlTtl: config.UPLOAD_URL_TTL,
        scan: config.UPLOAD_SCAN,
        stagingDir: staging.dir,
        publicUrl: app.publicUrl,
      },
      notifier: mailNotifier(app.mail, new MediaRepository(db)),
      log: app.log,
      publicChanges: app.content.publicChanges,
      languages: app.languages,
    });
    await rejectInterrupted(service, staging.interrupted, app.log);
    const worker = new UploadWorker({ service, scanner, clock, log: app.log });
    app.decorate('uploads', service);
    app.decorate('uploadWorker', worker);
    // Part of the public read's one statement; the links are signed per request here.
    app.content.public.setMediaSource({
      select: (portfolioId, language) =>
        MediaRepository.availableByPortfolioJson(portfolioId, PUBLIC_MEDIA_LIMIT, language),
      render: (value) => service.delivery.publicMediaOf(mediaRowsFromJson(value)),
      linkLifetime: config.UPLOAD_URL_TTL,
    });
    await app.register(mediaRoutes);
    await app.register(mediaContentRoutes, { versions: new PublicVersionRepository(db) });
    app.addHook('onReady', async () => worker.start(config.UPLOAD_RETRY_INTERVAL * 1000));
    app.addHook('onClose', async () => {
      await worker.stop();
      await service.settled();
      await store.close();
      await rm(staging.dir, { recursive: true, force: true });
    });
  },
  { name: 'uploads', dependencies: ['deps', 'mail', 'authenticate', 'audit', 'content', 'languages'] },
);
