/**
 * The eslint-plugin-security rules from eslint.config.js, alone: errors are findings, warnings
 * (the noisy heuristics, see eslint.config.js) are counted in a note. Type information is switched
 * off because no security rule needs it, which makes this seconds faster than `npm run lint`.
 */
import { ESLint } from 'eslint';
import path from 'node:path';
import type { CheckResult } from './types.js';

export interface PlantedText {
  code: string;
  /** Where the code would live, relative to cwd (decides which config blocks apply). */
  filePath: string;
}

export async function checkEslintSecurity(options: {
  cwd: string;
  patterns?: string[];
  texts?: PlantedText[];
}): Promise<CheckResult> {
  const result: CheckResult = { name: 'eslint', findings: [], notes: [] };
  const eslint = new ESLint({
    cwd: options.cwd,
    ruleFilter: ({ ruleId }) => ruleId.startsWith('security/'),
    overrideConfig: { languageOptions: { parserOptions: { project: null, projectService: false } } },
  });
  const results = options.texts
    ? (
        await Promise.all(
          options.texts.map((t) => eslint.lintText(t.code, { filePath: path.join(options.cwd, t.filePath) })),
        )
      ).flat()
    : await eslint.lintFiles(options.patterns ?? ['.']);
  let warnings = 0;
  for (const file of results) {
    for (const m of file.messages) {
      const where = `${path.relative(options.cwd, file.filePath)}:${m.line}:${m.column}`;
      if (m.fatal) result.findings.push(`eslint: ${where} cannot be parsed: ${m.message}`);
      else if (m.severity === 2) result.findings.push(`eslint: ${where} [${m.ruleId ?? '?'}] ${m.message}`);
      else warnings++;
    }
  }
  result.notes.push(
    `eslint: ${results.length} files checked with the security rules` +
      (warnings > 0 ? `; ${warnings} advisory warnings (see \`npx eslint .\`)` : ''),
  );
  return result;
}
