/**
 * `npm run cli -- languages list|add|set-default|remove`: the site languages
 * (src/content/languages, docs/CONTENT.md). Only the commands are declared here; each action
 * loads its implementation (./languages-actions.ts) when it runs (see src/cli/index.ts).
 */
import type { Command } from 'commander';

export function registerLanguageCommands(program: Command): void {
  const languages = program
    .command('languages')
    .description('Site languages: the default, enabled ones and fallbacks (docs/CONTENT.md).');

  languages
    .command('list')
    .description('List every language, the default first.')
    .option('--json', 'print JSON', false)
    .action(async (opts: { json: boolean }) => (await import('./languages-actions.js')).languagesList(opts));

  languages
    .command('add')
    .description('Add a language (the code is canonicalised: pt-br becomes pt-BR).')
    .argument('<code>', 'BCP 47 tag such as es or pt-BR')
    .option('--name <name>', 'English name (default: from the code)')
    .option('--native-name <name>', 'name in the language itself (default: from the code)')
    .option('--fallback <codes>', 'comma-separated languages to fall back to, in order (e.g. pt,en)')
    .option('--disabled', 'add it hidden from visitors', false)
    .option('--default', 'make it the site default language', false)
    .action(
      async (
        code: string,
        opts: { name?: string; nativeName?: string; fallback?: string; disabled: boolean; default: boolean },
      ) => (await import('./languages-actions.js')).languagesAdd(code, opts),
    );

  languages
    .command('set-default')
    .description('Make a language the site default (in one transaction with unsetting the old one).')
    .argument('<code>', 'an enabled language')
    .action(async (code: string) => (await import('./languages-actions.js')).languagesSetDefault(code));

  languages
    .command('remove')
    .description(
      'Delete a language; with --force also every translation in it (portfolios, their content, site texts).',
    )
    .argument('<code>', 'the language')
    .option('--force', 'remove its translations everywhere if content uses it', false)
    .action(async (code: string, opts: { force: boolean }) =>
      (await import('./languages-actions.js')).languagesRemove(code, opts),
    );
}
