import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { asvsDoc, DOC_FILE, MAPPING_FILE } from './lib/asvs/check.js';
import { coverageLines, loadAndCheckMapping } from './lib/asvs/mapping.js';
import { REPO_ROOT } from './lib/supply-chain/types.js';

/** Regenerates docs/ASVS.md from security/asvs.json (`npm run docs:asvs`); refuses a broken mapping. */
const report = await loadAndCheckMapping(path.join(REPO_ROOT, MAPPING_FILE), { root: REPO_ROOT });
for (const f of report.findings) process.stderr.write(`${f}\n`);
if (!report.mapping || report.findings.length > 0) {
  process.stderr.write(`${MAPPING_FILE} has problems: ${DOC_FILE} not written.\n`);
  process.exit(1);
}
await writeFile(path.join(REPO_ROOT, DOC_FILE), asvsDoc(report.mapping));
process.stdout.write(`Wrote ${DOC_FILE}.\n${coverageLines(report.mapping).join('\n')}\n`);
