/**
 * Site settings (issue 17, item 11; docs/SETTINGS.md): typed values an admin changes at run time,
 * read on hot paths (every mail, the TOTP issuer, every public read's Cache-Control).
 *
 * - Sources, in order: an environment variable that sets the same thing (only when it is really
 *   set, `isSetFromEnv`: its default does not count), the value saved in `site_settings`, the
 *   default. The default language has one source of truth, the languages table
 *   (`app.languages`): reading and setting it here goes through that service.
 * - Each node keeps the saved values in memory: reads are synchronous and free. A change reloads
 *   them on this node before its answer, and is announced on the KV channel SETTINGS_CHANNEL
 *   (the languages service's pattern: an origin id, subscribers reload), so every other node
 *   reloads at once; a periodic reload bounds a message that never arrives.
 * - A change is validated, then written and audited (before/after of each setting) in one
 *   transaction; a default-language switch happens in that same transaction.
 */
import { Compile } from 'typebox/compile';
import { isSetFromEnv, type Config } from '../config/index.js';
import { schema } from '../config/schema.js';
import type { Author, AuditSink, LanguageService } from '../content/languages/service.js';
import type { Clock } from '../platform/clock.js';
import type { Db, Queryable } from '../platform/db/index.js';
import { isMailboxAddress } from '../platform/mail/headers.js';
import { AUDIT_ACTIONS } from '../security/audit/actions.js';
import { canonicalEmail } from '../users/email.js';
import { settingsErrors } from './errors.js';
import { SettingsRepository } from './repository.js';
import {
  ContactRecipient,
  PrivacyNoticeText,
  PublicCacheMaxAge,
  SiteName,
  type SettingKey,
  type SettingsPatch,
  type SettingsView,
} from './schema.js';

/** Other nodes hear of a change here (KV pub/sub) and reload. */
export const SETTINGS_CHANNEL = 'settings:changes';
/** Each node also reloads this often: the bound on a change announcement that got lost. */
export const SETTINGS_REFRESH_MS = 30_000;

export const DEFAULT_SITE_NAME = 'Portfolio';

/** The settings stored in `site_settings` (the default language lives in the languages table). */
type StoredKey = Exclude<SettingKey, 'defaultLanguage'>;
interface Stored {
  siteName?: string;
  contactRecipient?: string;
  publicCacheMaxAge?: number;
  privacyNotice?: string;
}

/** The environment variable that pins a setting when it is set. */
export const ENV_OF: Readonly<Partial<Record<SettingKey, 'PUBLIC_CACHE_MAX_AGE'>>> = {
  publicCacheMaxAge: 'PUBLIC_CACHE_MAX_AGE',
};

/** A row is checked on the way out too: a hand-edited bad value is ignored (the default applies). */
const CHECKS: Record<StoredKey, { Check(value: unknown): boolean }> = {
  siteName: Compile(SiteName),
  contactRecipient: Compile(ContactRecipient),
  publicCacheMaxAge: Compile(PublicCacheMaxAge),
  privacyNotice: Compile(PrivacyNoticeText),
};

export type LanguagesPort = Pick<LanguageService, 'defaultLanguage' | 'setDefault'>;

export interface SettingsServiceOptions {
  db: Db;
  clock: Clock;
  config: Config;
  audit: AuditSink;
  languages: LanguagesPort;
  log?: { warn: (obj: object, msg: string) => void };
}

export class SettingsService {
  readonly repo: SettingsRepository;
  /** Set by the plugin: tells the other nodes (KV channel) after a local change. */
  announce: () => Promise<void> = async () => undefined;
  private stored: Stored = {};
  private noticeSavedAt: Date | null = null;
  private loads = 0;

  constructor(private readonly o: SettingsServiceOptions) {
    this.repo = new SettingsRepository(o.db);
  }

  // ---- hot path: synchronous, from memory ------------------------------------------------------

  /** Mail subjects and signatures. */
  siteName(): string {
    return this.stored.siteName ?? DEFAULT_SITE_NAME;
  }

  /** The otpauth issuer and passkey relying-party name: MFA_ISSUER when set, else the site name. */
  totpIssuer(): string {
    return isSetFromEnv(this.o.config, 'MFA_ISSUER') ? this.o.config.MFA_ISSUER : this.siteName();
  }

  /** Where contact-form messages go; null: to the portfolio's owner. */
  contactRecipient(): string | null {
    return this.stored.contactRecipient ?? null;
  }

  /** Cache-Control max-age of public reads: PUBLIC_CACHE_MAX_AGE when set, the saved value, else its default. */
  publicCacheMaxAge(): number {
    if (isSetFromEnv(this.o.config, 'PUBLIC_CACHE_MAX_AGE')) return this.o.config.PUBLIC_CACHE_MAX_AGE;
    return this.stored.publicCacheMaxAge ?? this.o.config.PUBLIC_CACHE_MAX_AGE;
  }

  /** The privacy notice saved by an admin and when (src/security/privacy/notice); null: none. */
  privacyNotice(): { text: string; updatedAt: Date } | null {
    const text = this.stored.privacyNotice;
    return text === undefined ? null : { text, updatedAt: this.noticeSavedAt ?? new Date(0) };
  }

  // ---- loading ---------------------------------------------------------------------------------

  /** Reads the saved values into memory. Of two loads racing, the one started last wins. */
  async load(): Promise<void> {
    const seq = ++this.loads;
    const rows = await this.repo.list();
    if (seq !== this.loads) return;
    const next: Stored = {};
    let noticeSavedAt: Date | null = null;
    for (const row of rows) {
      const check = CHECKS[row.key as StoredKey] as (typeof CHECKS)[StoredKey] | undefined;
      if (check?.Check(row.value)) {
        Object.assign(next, { [row.key]: row.value });
        if (row.key === 'privacyNotice') noticeSavedAt = new Date(row.updatedAt);
      } else this.o.log?.warn({ key: row.key }, 'site setting ignored: unknown key or invalid value');
    }
    this.stored = next;
    this.noticeSavedAt = noticeSavedAt;
  }

  // ---- admin -----------------------------------------------------------------------------------

  async view(tx?: Queryable): Promise<SettingsView> {
    const { config } = this.o;
    const stored = tx ? await this.storedIn(tx) : this.stored;
    const entry = <T>(key: StoredKey, value: T | undefined, fallback: T) => {
      const env = ENV_OF[key] ?? null;
      if (env !== null && isSetFromEnv(config, env))
        return { value: config[env] as T, source: 'env' as const, env, default: fallback };
      return value === undefined
        ? { value: fallback, source: 'default' as const, env, default: fallback }
        : { value, source: 'database' as const, env, default: fallback };
    };
    return {
      siteName: entry('siteName', stored.siteName, DEFAULT_SITE_NAME),
      contactRecipient: entry<string | null>('contactRecipient', stored.contactRecipient, null),
      defaultLanguage: {
        value: await this.o.languages.defaultLanguage(tx),
        source: 'database',
        env: null,
        default: null,
      },
      publicCacheMaxAge: entry('publicCacheMaxAge', stored.publicCacheMaxAge, this.configDefaultMaxAge()),
      privacyNotice: entry<string | null>('privacyNotice', stored.privacyNotice, null),
    };
  }

  /**
   * Changes some settings in one transaction: each checked, the pinned ones refused (409 naming
   * the variable), one audit event with each changed setting's before and after. Effective on
   * this node when this resolves; on the others as soon as they hear the announcement.
   */
  async update(by: Author, patch: SettingsPatch): Promise<SettingsView> {
    const keys = Object.keys(patch) as SettingKey[];
    for (const key of keys) {
      const env = ENV_OF[key];
      if (env !== undefined && isSetFromEnv(this.o.config, env)) throw settingsErrors.pinnedByEnv(key, env);
    }
    const values = normalise(patch);
    const now = this.o.clock.now();
    await this.o.db.transaction(async (tx) => {
      await this.repo.lock(tx);
      const before = await this.view(tx);
      const changes: Record<string, { before: unknown; after: unknown }> = {};
      for (const key of ['siteName', 'contactRecipient', 'publicCacheMaxAge', 'privacyNotice'] as const) {
        if (!(key in values)) continue;
        const value = values[key];
        if (value === null || value === undefined) await this.repo.remove(key, tx);
        else await this.repo.put(key, value, by.actorId, now, tx);
      }
      if (values.defaultLanguage !== undefined) await this.o.languages.setDefault(by, values.defaultLanguage, tx);
      const after = await this.view(tx);
      for (const key of keys) {
        if (JSON.stringify(before[key]) !== JSON.stringify(after[key]))
          changes[key] = {
            before: before[key].value,
            after: after[key].value,
            ...sourceChange(before[key], after[key]),
          };
      }
      if (Object.keys(changes).length === 0) return;
      await this.o.audit.record(
        {
          action: AUDIT_ACTIONS.settingsUpdated,
          actor: by.actorId,
          outcome: 'success',
          target: { type: 'settings', id: 'site' },
          metadata: { changes },
          ...by.context,
        },
        tx,
      );
    });
    await this.load();
    await this.announce().catch((err: unknown) => this.o.log?.warn({ err }, 'settings change announce failed'));
    return this.view();
  }

  private async storedIn(tx: Queryable): Promise<Stored> {
    const out: Stored = {};
    for (const row of await this.repo.list(tx)) {
      if (CHECKS[row.key as StoredKey]?.Check(row.value)) Object.assign(out, { [row.key]: row.value });
    }
    return out;
  }

  /** PUBLIC_CACHE_MAX_AGE's documented default: the setting's default too. */
  private configDefaultMaxAge(): number {
    return Number(schema.PUBLIC_CACHE_MAX_AGE.default);
  }
}

function sourceChange(before: { source: string }, after: { source: string }) {
  return before.source === after.source ? {} : { sourceBefore: before.source, sourceAfter: after.source };
}

/** What the schema cannot say: a trimmed site name, one plain mailbox as recipient (canonical form). */
function normalise(patch: SettingsPatch): SettingsPatch {
  const out: SettingsPatch = { ...patch };
  if (typeof patch.siteName === 'string') out.siteName = patch.siteName.trim();
  if (typeof patch.contactRecipient === 'string') {
    const email = canonicalEmail(patch.contactRecipient);
    if (email === null || !isMailboxAddress(email))
      throw settingsErrors.invalid('contactRecipient', 'must be one email address like name@example.com');
    out.contactRecipient = email;
  }
  return out;
}
