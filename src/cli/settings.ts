/**
 * `npm run cli -- settings get|set|reset`: the site settings (src/settings/, docs/SETTINGS.md).
 * Only the commands are declared here; each action loads ./settings-actions.ts when it runs.
 */
import type { Command } from 'commander';

export function registerSettingsCommands(program: Command): void {
  const settings = program
    .command('settings')
    .description(
      'Site settings: site name, contact recipient, default language, public cache lifetime (docs/SETTINGS.md).',
    );
  settings
    .command('get')
    .description('Each setting, its value and the source that won (env, database, default).')
    .option('--json', 'print JSON', false)
    .action(async (opts: { json: boolean }) => (await import('./settings-actions.js')).settingsGet(opts));
  settings
    .command('set')
    .description('Change one setting (the same checks and audit event as the API; running servers reload it).')
    .argument('<key>', 'siteName, contactRecipient, defaultLanguage or publicCacheMaxAge')
    .argument('<value>', 'the new value (publicCacheMaxAge: seconds)')
    .action(async (key: string, value: string) => (await import('./settings-actions.js')).settingsSet(key, value));
  settings
    .command('reset')
    .description('Put one setting back to its default.')
    .argument('<key>', 'siteName, contactRecipient or publicCacheMaxAge')
    .action(async (key: string) => (await import('./settings-actions.js')).settingsSet(key, null));
}
