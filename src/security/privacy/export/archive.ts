/**
 * What an export holds: `data.json` (schema in docs/PRIVACY.md, `format` and `version` below) and
 * the served file of each available medium under `media/`. Gathered for one subject: every read
 * filters on the subject's id or the ids of the subject's own portfolios (repository.ts).
 *
 * Never in an archive: password hashes (and their history), TOTP secrets, backup codes or their
 * hashes, token hashes (refresh, one-time links, trusted devices, MFA challenges), passkey public
 * keys and credential ids, storage keys of files. The profile is an allow-list of fields.
 */
import type { Readable } from 'node:stream';
import type { StoredVariant } from '../../uploads/repository.js';
import type { BlobStore } from '../../../platform/blob/index.js';
import type { Db } from '../../../platform/db/index.js';
import type { UsersService } from '../../../users/service.js';
import { accountEventView } from '../../audit/account-events.js';
import type { ChainedEvent } from '../../audit/canonical.js';
import type { ZipEntry } from './zip.js';
import { CHILD_TABLES, ExportRepository, RELATION_NAMES, type ExportRow } from './repository.js';

export const EXPORT_FORMAT = 'portfolio-backend.export';
export const EXPORT_VERSION = 1;
/** Audit events exported at most (newest first in the log; the archive lists them oldest first). */
export const MAX_AUDIT_EVENTS = 10_000;

export interface AuditEventsSource {
  accountEvents(
    userId: string,
    limit: number,
    beforeSeq?: number,
  ): Promise<{ items: ChainedEvent[]; nextCursor: string | null }>;
}

type Json = Record<string, unknown>;

export interface ExportedMedium extends Json {
  id: string;
  /** The path of the served file inside the archive, or null (not available: quarantined, in progress). */
  file: string | null;
}

export interface ExportData {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  exportId: string;
  generatedAt: string;
  requestedBy: { self: boolean };
  profile: Json;
  portfolios: Json[];
  media: ExportedMedium[];
  contactMessages: Json[];
  sessions: Json[];
  trustedDevices: Json[];
  mfa: Json;
  signInHistory: { networks: Json[]; devices: Json[] };
  exports: Json[];
  auditEvents: Json[];
}

/** Content fields that are bookkeeping of the server, not the user's data. */
const CONTENT_OMIT = new Set(['public_version']);
/** Media fields that are storage internals (keys in the blob store, the quarantine's copy). */
const MEDIA_OMIT = new Set(['quarantine_key', 'variants']);

function omit(row: Json, keys: ReadonlySet<string>): Json {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !keys.has(k)));
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/gif': 'gif',
  'application/pdf': 'pdf',
};

/** The file a link serves by default: the display variant, else the original (as delivery.ts). */
function servedVariant(row: Json): StoredVariant | undefined {
  const variants = (row['variants'] ?? {}) as Partial<Record<'display' | 'original', StoredVariant>>;
  return variants.display ?? variants.original;
}

/** Storage keys of the served files, by media id (kept out of data.json). */
const SERVED = new WeakMap<ExportData, Map<string, StoredVariant>>();

export async function collectExport(
  db: Db,
  audit: AuditEventsSource,
  users: Pick<UsersService, 'get'>,
  row: ExportRow,
  at: Date,
): Promise<ExportData> {
  const repo = new ExportRepository(db);
  const subjectId = row.subjectId;
  const user = await users.get(subjectId);

  const portfolios = await repo.portfolios(subjectId);
  const ids = portfolios.map((p) => String(p['id']));
  const children = Object.fromEntries(
    await Promise.all(CHILD_TABLES.map(async (t) => [t, await repo.children(t, ids)] as const)),
  );
  const relations = Object.fromEntries(
    await Promise.all(RELATION_NAMES.map(async (r) => [r, await repo.relation(r, ids)] as const)),
  );
  const byPortfolio = (rows: Json[] = [], id: string) =>
    rows.filter((r) => r['portfolio_id'] === id).map((r) => omit(r, CONTENT_OMIT));

  const mediaRows = await repo.media(ids);
  const served = new Map<string, StoredVariant>();
  const media: ExportedMedium[] = mediaRows.map((m) => {
    const id = String(m['id']);
    const variant = m['status'] === 'available' ? servedVariant(m) : undefined;
    let file: string | null = null;
    if (variant) {
      const ext = EXTENSIONS[variant.contentType] ?? 'bin';
      file = `media/${id}.${ext}`;
      served.set(id, variant);
    }
    return {
      ...omit(m, MEDIA_OMIT),
      id,
      file,
      served: variant
        ? {
            contentType: variant.contentType,
            size: variant.size,
            sha256: variant.sha256,
            width: variant.width ?? null,
            height: variant.height ?? null,
          }
        : null,
    };
  });

  const auditEvents: Json[] = [];
  let before: number | undefined;
  while (auditEvents.length < MAX_AUDIT_EVENTS) {
    const page = await audit.accountEvents(subjectId, 100, before);
    auditEvents.push(...page.items.map((e) => accountEventView(e, subjectId)));
    const last = page.items[page.items.length - 1];
    if (!last || page.nextCursor === null) break;
    before = last.seq;
  }
  auditEvents.reverse();

  const totp = await repo.totp(subjectId);
  const data: ExportData = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportId: row.id,
    generatedAt: at.toISOString(),
    requestedBy: { self: row.requestedBy === subjectId },
    profile: {
      id: user.id,
      email: user.email,
      name: user.name,
      roles: user.roles,
      disabled: user.disabled,
      mustChangePassword: user.mustChangePassword,
      createdAt: user.createdAt,
      updatedAt: user.updatedAt,
    },
    portfolios: portfolios.map((p) => {
      const id = String(p['id']);
      const projectIds = new Set(byPortfolio(children['projects'], id).map((r) => r['id']));
      const skillIds = new Set(byPortfolio(children['skills'], id).map((r) => r['id']));
      return {
        ...omit(p, CONTENT_OMIT),
        projects: byPortfolio(children['projects'], id),
        sections: byPortfolio(children['sections'], id),
        experiences: byPortfolio(children['experiences'], id),
        skills: byPortfolio(children['skills'], id),
        links: byPortfolio(children['links'], id),
        relations: {
          categories: (relations['portfolioCategories'] ?? []).filter((r) => r['portfolio_id'] === id),
          projectCategories: (relations['projectCategories'] ?? []).filter((r) => projectIds.has(r['project_id'])),
          skillCategories: (relations['skillCategories'] ?? []).filter((r) => skillIds.has(r['skill_id'])),
          projectSkills: (relations['projectSkills'] ?? []).filter((r) => r['portfolio_id'] === id),
        },
      };
    }),
    media,
    contactMessages: await repo.contactMessages(subjectId),
    sessions: await repo.sessions(subjectId),
    trustedDevices: await repo.trustedDevices(subjectId),
    mfa: {
      totp: totp ? { enrolled: true, confirmed: totp['confirmedAt'] !== null, ...totp } : { enrolled: false },
      backupCodes: await repo.backupCodes(subjectId),
      passkeys: await repo.passkeys(subjectId),
      requiredSince: await repo.mfaRequiredSince(subjectId),
    },
    signInHistory: await repo.loginHistory(subjectId),
    exports: await repo.exports(subjectId),
    auditEvents,
  };
  SERVED.set(data, served);
  return data;
}

/** The archive entries of the served media files, opened one at a time as the zip is written. */
export function mediaFiles(data: ExportData, store: BlobStore): ZipEntry[] {
  const served = SERVED.get(data) ?? new Map<string, StoredVariant>();
  const out: ZipEntry[] = [];
  for (const m of data.media) {
    const variant = served.get(m.id);
    if (!m.file || !variant) continue;
    out.push({ name: m.file, body: (): Promise<Readable> => store.get(variant.key) });
  }
  return out;
}
