/**
 * `app.uploads`: the parts of the uploads module, built once around one repository and one
 * pipeline. Routes and the worker call the parts directly; the few methods here are what other
 * features and tests ask of uploads as a whole. Where each step lives: see media.ts.
 */
import type { Actor } from '../../users/policy.js';
import { MediaDelivery, type LinkOptions } from './delivery.js';
import { UploadIntake } from './intake.js';
import type { PublicMedia, UploadServiceOptions, UploadSettings } from './media.js';
import { UploadPipeline } from './pipeline.js';
import { UploadQuarantine } from './quarantine.js';
import { MediaRepository } from './repository.js';

export class UploadService {
  readonly repo: MediaRepository;
  /** validate → scan → sanitise → store; quarantine, reject, remove. */
  readonly pipeline: UploadPipeline;
  /** The upload's target and its bytes into staging, then the pipeline. */
  readonly intake: UploadIntake;
  /** The quarantine admin, retries and rescans. */
  readonly quarantine: UploadQuarantine;
  /** Reads, signed links, serving, deletes, the public read. */
  readonly delivery: MediaDelivery;

  constructor(private readonly o: UploadServiceOptions) {
    this.repo = new MediaRepository(o.db, o.publicChanges);
    this.pipeline = new UploadPipeline(o, this.repo);
    this.intake = new UploadIntake(o, this.repo, this.pipeline);
    this.quarantine = new UploadQuarantine(o, this.repo, this.pipeline);
    this.delivery = new MediaDelivery(o, this.repo, this.pipeline);
  }

  get settings(): UploadSettings {
    return this.o.settings;
  }

  /** Where media bytes live (local directory or S3): account erasure deletes an account's objects here. */
  get store(): UploadServiceOptions['store'] {
    return this.o.store;
  }

  /** Waits for background work started by requests (integrity quarantines); for tests and shutdown. */
  settled(): Promise<void> {
    return this.delivery.settled();
  }

  /** A signed link to an available file; a `null` actor skips authorization (server-side use only). */
  link(actor: Actor | null, id: string, options: LinkOptions): Promise<{ url: string; expiresAt: string }> {
    return this.delivery.link(actor, id, options);
  }

  /** Available media of a published portfolio, each with a fresh signed link. */
  publicMedia(portfolioId: string): Promise<PublicMedia[]> {
    return this.delivery.publicMedia(portfolioId);
  }
}
