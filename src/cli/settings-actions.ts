/**
 * The `settings` commands' work: the same SettingsService as the admin API (same checks, same
 * audit event with actor `system`), and the same announcement, so running servers reload at once.
 */
import { Compile } from 'typebox/compile';
import { LANGUAGES_CHANNEL, LanguageService, type Author } from '../content/languages/service.js';
import { systemClock } from '../platform/clock.js';
import { SETTING_KEYS, SettingsPatch, type SettingKey } from '../settings/schema.js';
import { SETTINGS_CHANNEL, SettingsService } from '../settings/service.js';
import { CliError } from './errors.js';
import { operatorAuthor, withAuditedPlatform } from './platform.js';

async function withSettings<T>(fn: (service: SettingsService, by: Author) => Promise<T>): Promise<T> {
  return withAuditedPlatform(async ({ config, deps, audit }) => {
    const languages = new LanguageService(deps.db, systemClock, audit);
    languages.announce = (change) =>
      deps.kv.publish(LANGUAGES_CHANNEL, JSON.stringify({ origin: 'cli', change })).catch(() => undefined);
    const service = new SettingsService({ db: deps.db, clock: systemClock, config, audit, languages });
    service.announce = () =>
      deps.kv.publish(SETTINGS_CHANNEL, JSON.stringify({ origin: 'cli' })).catch(() => undefined);
    await service.load();
    return fn(service, operatorAuthor());
  });
}

export async function settingsGet(opts: { json: boolean }): Promise<void> {
  await withSettings(async (service) => {
    const view = await service.view();
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(view, null, 2)}\n`
        : SETTING_KEYS.map(
            (k) =>
              `${k}  ${JSON.stringify(view[k].value)}  (${view[k].source}${view[k].env ? `, ${view[k].env}` : ''})\n`,
          ).join(''),
    );
  });
}

const checkPatch = Compile(SettingsPatch);

export async function settingsSet(key: string, raw: string | null): Promise<void> {
  if (!(SETTING_KEYS as readonly string[]).includes(key))
    throw new CliError(`Unknown setting "${key}": use one of ${SETTING_KEYS.join(', ')}.`);
  const value = raw !== null && key === 'publicCacheMaxAge' ? (/^\d+$/.test(raw) ? Number(raw) : raw) : raw;
  const patch = { [key as SettingKey]: value };
  if (!checkPatch.Check(patch))
    throw new CliError(`"${String(raw)}" is not a valid value for ${key} (docs/SETTINGS.md).`);
  await withSettings(async (service, by) => {
    const view = await service.update(by, patch);
    const entry = view[key as SettingKey];
    process.stdout.write(`${key} is now ${JSON.stringify(entry.value)} (${entry.source}).\n`);
  });
}
