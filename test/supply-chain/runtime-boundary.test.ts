/**
 * What `npm run build` compiles is what production runs. The lint rule `project/runtime-boundary`
 * (eslint.config.js) keeps test code and devDependencies out of it; these tests plant the imports
 * that once broke the build and check that the real rule, as configured, refuses them.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const RULE = '@typescript-eslint/no-restricted-imports';

/**
 * The boundary rule exactly as eslint.config.js configures it for `filePath` (files and ignores
 * resolved by ESLint itself), run alone with a parser but no type information, so planted text can
 * be linted without writing it into src/.
 */
async function problems(code: string, filePath: string): Promise<string[]> {
  const resolved = (await new ESLint().calculateConfigForFile(filePath)) as Linter.Config;
  const setting = resolved.rules?.[RULE];
  if (setting === undefined) return [];
  const eslint = new ESLint({
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        plugins: { '@typescript-eslint': tseslint.plugin },
        languageOptions: { parser: tseslint.parser },
        rules: { [RULE]: setting },
      },
    ],
  });
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? ''}: ${m.message}`);
}

describe('runtime boundary (src/ never imports test code or devDependencies)', () => {
  it('refuses an import from src/ into test/, at any depth and through index paths', async () => {
    for (const spec of [
      '../../test/helpers/app.js',
      '../../../test/support/uploads/helpers.js',
      '../test',
      '../../bench/run.js',
    ]) {
      const found = await problems(
        `import { x } from '${spec}';\nexport const y = x;\n`,
        'src/security/uploads/planted.ts',
      );
      expect(found, spec).toEqual([expect.stringContaining('src/ is what the build ships')]);
    }
  });

  it('refuses a devDependency (value import, subpath, re-export) but allows type-only imports', async () => {
    const file = 'src/platform/mail/planted.ts';
    expect(
      await problems(`import { SMTPServer } from 'smtp-server';\nexport const s = SMTPServer;\n`, file),
    ).toHaveLength(1);
    expect(await problems(`import { expect } from 'vitest';\nexport const e = expect;\n`, file)).toHaveLength(1);
    expect(await problems(`export { parse } from 'yaml';\n`, file)).toHaveLength(1);
    expect(
      await problems(`import { fc } from 'fast-check/lib/fast-check.js';\nexport const f = fc;\n`, file),
    ).toHaveLength(1);
    expect(
      await problems(
        `import type { SMTPServerOptions } from 'smtp-server';\nexport type O = SMTPServerOptions;\n`,
        file,
      ),
    ).toEqual([]);
    // Production dependencies stay allowed.
    expect(await problems(`import Fastify from 'fastify';\nexport const f = Fastify;\n`, file)).toEqual([]);
  });

  it('applies to every runtime file in src/ but not to the co-located tests', async () => {
    const testFile = await problems(
      `import { expect } from 'vitest';\nexport const e = expect;\n`,
      'src/http/errors.test.ts',
    );
    expect(testFile).toEqual([]);
  });

  it('no test-support file is left under src/', async () => {
    const entries = await readdir('src', { recursive: true });
    const support = entries.filter((f) => /test-support|(^|[/\\])support\.ts$/.test(path.normalize(f)));
    expect(support).toEqual([]);
  });
});
