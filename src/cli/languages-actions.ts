/**
 * The `languages` commands' work: the same LanguageService as the admin API (same rules, same
 * audit events with actor `system`), and the same change announcement, so running servers drop
 * what they cached about languages. Loaded only when one of them runs.
 */
import { LANGUAGES_CHANNEL, LanguageService, type Author } from '../content/languages/service.js';
import { systemClock } from '../platform/clock.js';
import { operatorAuthor, withAuditedPlatform } from './platform.js';

async function withLanguages<T>(fn: (service: LanguageService, by: Author) => Promise<T>): Promise<T> {
  return withAuditedPlatform(async ({ deps, audit }) => {
    const service = new LanguageService(deps.db, systemClock, audit);
    service.announce = (change) =>
      deps.kv.publish(LANGUAGES_CHANNEL, JSON.stringify({ origin: 'cli', change })).catch(() => undefined);
    return fn(service, operatorAuthor());
  });
}

const describe = (l: {
  code: string;
  name: string;
  nativeName: string;
  enabled: boolean;
  isDefault: boolean;
  fallback: string[];
}) =>
  `${l.code}  ${l.name} (${l.nativeName})${l.isDefault ? '  default' : ''}${l.enabled ? '' : '  disabled'}${
    l.fallback.length ? `  falls back to ${l.fallback.join(' → ')}` : ''
  }`;

export async function languagesList(opts: { json: boolean }): Promise<void> {
  await withLanguages(async (service) => {
    const all = await service.list();
    process.stdout.write(opts.json ? `${JSON.stringify(all, null, 2)}\n` : all.map((l) => `${describe(l)}\n`).join(''));
  });
}

export async function languagesAdd(
  code: string,
  opts: { name?: string; nativeName?: string; fallback?: string; disabled: boolean; default: boolean },
): Promise<void> {
  await withLanguages(async (service, by) => {
    const created = await service.create(by, {
      code,
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(opts.nativeName !== undefined ? { nativeName: opts.nativeName } : {}),
      ...(opts.fallback !== undefined
        ? {
            fallback: opts.fallback
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          }
        : {}),
      enabled: !opts.disabled,
      ...(opts.default ? { isDefault: true } : {}),
    });
    process.stdout.write(`Added ${describe(created)}.\n`);
  });
}

export async function languagesSetDefault(code: string): Promise<void> {
  await withLanguages(async (service, by) => {
    const updated = await service.update(by, code, { isDefault: true });
    process.stdout.write(`The default language is now ${updated.code}.\n`);
  });
}

export async function languagesRemove(code: string, opts: { force: boolean }): Promise<void> {
  await withLanguages(async (service, by) => {
    const { removed } = await service.delete(by, code, opts.force);
    const counts = Object.entries(removed).filter(([, n]) => n > 0);
    process.stdout.write(
      `Removed ${code}${counts.length ? `, and its translations from ${counts.map(([t, n]) => `${n} ${t}`).join(', ')}` : ''}.\n`,
    );
  });
}
