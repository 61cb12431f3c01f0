/**
 * The `asvs` check of `npm run security`: security/asvs.json is a valid mapping whose every named
 * test still exists, docs/ASVS.md is what it generates, and the coverage per chapter as notes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CheckResult } from '../supply-chain/types.js';
import { coverageLines, loadAndCheckMapping, renderAsvsDoc, type AsvsMapping } from './mapping.js';

export const MAPPING_FILE = 'security/asvs.json';
export const DOC_FILE = 'docs/ASVS.md';

/**
 * docs/ASVS.md as committed: exactly the rendering. The file is in .prettierignore, so the
 * pre-commit hook (which formats staged Markdown) leaves it as generated.
 */
export function asvsDoc(mapping: AsvsMapping): string {
  return renderAsvsDoc(mapping);
}

export async function checkAsvs(options: { root: string; mapping?: string; doc?: string }): Promise<CheckResult> {
  const result: CheckResult = { name: 'asvs', findings: [], notes: [] };
  const mappingFile = path.resolve(options.root, options.mapping ?? MAPPING_FILE);
  const report = await loadAndCheckMapping(mappingFile, { root: options.root });
  result.findings.push(...report.findings);
  if (!report.mapping) return result;
  for (const line of coverageLines(report.mapping)) result.notes.push(`asvs: ${line}`);
  const docFile = path.resolve(options.root, options.doc ?? DOC_FILE);
  const committed = await readFile(docFile, 'utf8').catch(() => undefined);
  if (committed === undefined)
    result.findings.push(`asvs: ${path.relative(options.root, docFile)} is missing: run npm run docs:asvs`);
  else if (committed !== asvsDoc(report.mapping)) {
    result.findings.push(
      `asvs: ${path.relative(options.root, docFile)} is not what ${MAPPING_FILE} generates: run npm run docs:asvs`,
    );
  }
  return result;
}
