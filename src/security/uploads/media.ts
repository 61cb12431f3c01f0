/**
 * What the parts of the uploads module share: the settings and dependencies they are built from,
 * the JSON shapes a media row is answered as, and the few look-ups every part needs (a row that
 * must exist, the parent an upload or a list belongs to, the size limit of a kind).
 *
 * The parts, in the order a file meets them:
 *   intake.ts      the form's file part into a private staging file (`staged`)
 *   pipeline.ts    validate, scan, sanitise, store: `available`, `quarantined` or `rejected`
 *   quarantine.ts  what waits in quarantine: admin release and delete, retries, rescans
 *   delivery.ts    reads, signed links, serving, deletes, the public read
 *   service.ts     `app.uploads`: the parts, built once
 */
import type { PublicReadChangesPort } from '../../content/public-read/changes.js';
import type { LanguageService } from '../../content/languages/service.js';
import type { PublicUrlSource } from '../../config/public-url.js';
import type { BlobStore } from '../../platform/blob/index.js';
import type { ClamdClient } from '../../platform/clamd/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import { authorizeContent, type Actor } from '../../users/policy.js';
import type { AuditEventInput } from '../audit/event.js';
import { uploadErrors } from './errors.js';
import type { ImageLimits } from './images.js';
import type { MediaRepository, MediaRow } from './repository.js';
import type { UrlSigner } from './signing.js';
import type { Category, MediaKind } from './types.js';

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
  /** The public read's versions: every media write raises its portfolio's (src/content/public-read). */
  publicChanges?: PublicReadChangesPort | undefined;
  /** The site languages (a medium's `language` and its translations must be enabled ones). */
  languages?: Pick<LanguageService, 'lockEnabled' | 'fallbackChain' | 'defaultLanguage'> | undefined;
}

export interface MediaJson {
  id: string;
  portfolioId: string;
  projectId: string | null;
  sectionId: string | null;
  experienceId: string | null;
  kind: MediaKind;
  category: Category;
  isDefaultResume: boolean;
  language: string | null;
  alt: string;
  caption: string;
  translations: MediaRow['translations'];
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
  sectionId: string | null;
  experienceId: string | null;
  kind: MediaKind;
  category: Category;
  isDefaultResume: boolean;
  language: string | null;
  /** Alt text and caption resolved for the read's language (falling back to the default language). */
  alt: string;
  caption: string;
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
  sectionId: string | null;
  experienceId: string | null;
  ownerId: string;
}

export type MediaParent = 'portfolio' | 'project' | 'section' | 'experience';
export const MEDIA_PARENTS: readonly MediaParent[] = ['portfolio', 'project', 'section', 'experience'];
const PARENT_NAMES: Record<MediaParent, string> = {
  portfolio: 'Portfolio',
  project: 'Project',
  section: 'Section',
  experience: 'Experience',
};

/** Media a public portfolio read lists at most. */
export const PUBLIC_MEDIA_LIMIT = 200;

const iso = (d: Date | string | null) => (d === null ? null : (d instanceof Date ? d : new Date(d)).toISOString());

export function toMediaJson(row: MediaRow): MediaJson {
  const main = row.variants.display ?? row.variants.original;
  return {
    id: row.id,
    portfolioId: row.portfolioId,
    projectId: row.projectId,
    sectionId: row.sectionId,
    experienceId: row.experienceId,
    kind: row.kind,
    category: row.category,
    isDefaultResume: row.isDefaultResume,
    language: row.language,
    alt: row.alt,
    caption: row.caption,
    translations: row.translations,
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

export function maxBytesFor(settings: UploadSettings, kind: MediaKind): number {
  return kind === 'image' ? settings.maxImageBytes : settings.maxDocumentBytes;
}

/** The 413 for a file of `kind` past `max` bytes. */
export function tooLargeFor(kind: MediaKind, max: number) {
  return uploadErrors.tooLarge(kind === 'image' ? 'An image' : 'A document', max);
}

export async function mustGet(repo: MediaRepository, id: string): Promise<MediaRow> {
  const row = await repo.get(id);
  if (!row) throw uploadErrors.notFound();
  return row;
}

/** The portfolio, project, section or experience media belong to, once `actor` may `action` it (404/403 otherwise). */
export async function authorizedParent(
  repo: MediaRepository,
  actor: Actor,
  action: 'read' | 'write',
  parent: MediaParent,
  id: string,
): Promise<{ portfolioId: string; ownerId: string }> {
  const found =
    parent === 'portfolio'
      ? await repo.portfolioOwner(id)
      : parent === 'project'
        ? await repo.projectParent(id)
        : await repo.childParent(parent === 'section' ? 'sections' : 'experiences', id);
  authorizeContent(actor, action, found, PARENT_NAMES[parent]);
  return found;
}
