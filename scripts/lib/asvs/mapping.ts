/**
 * security/asvs.json: each OWASP ASVS 5.0 requirement up to Level 2 of the chapters that apply,
 * its status, and the tests that prove it. This module checks a mapping (ids, levels, statuses,
 * that every named test still exists), counts coverage per chapter and renders docs/ASVS.md.
 * `npm run security` (check `asvs`) and test/supply-chain/asvs.test.ts run it; docs/ASVS.md says how
 * to maintain the file.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { declaredTestsOf, namesTest, type DeclaredTest } from './test-names.js';

export const STANDARD = 'OWASP ASVS 5.0.0';

/** ASVS 5.0.0 chapter names (from the standard's 5.0.0 CSV). */
export const CHAPTERS: Record<string, string> = {
  V1: 'Encoding and Sanitization',
  V2: 'Validation and Business Logic',
  V3: 'Web Frontend Security',
  V4: 'API and Web Service',
  V5: 'File Handling',
  V6: 'Authentication',
  V7: 'Session Management',
  V8: 'Authorization',
  V9: 'Self-contained Tokens',
  V10: 'OAuth and OIDC',
  V11: 'Cryptography',
  V12: 'Secure Communication',
  V13: 'Configuration',
  V14: 'Data Protection',
  V15: 'Secure Coding and Architecture',
  V16: 'Security Logging and Error Handling',
  V17: 'WebRTC',
};

/**
 * Every requirement id of ASVS 5.0.0 with its level: per section, the level of requirement 1, 2,
 * 3, ... in order (`V6.2: '111111112222'` is V6.2.1 at L1 ... V6.2.12 at L2). Transcribed from
 * OWASP/ASVS 5.0/docs_en/OWASP_Application_Security_Verification_Standard_5.0.0_en.csv; a mapping
 * may name only these ids, at these levels.
 */
const SECTION_LEVELS: Record<string, string> = {
  'V1.1': '22',
  'V1.2': '1111122223',
  'V1.3': '112222222223',
  'V1.4': '222',
  'V1.5': '123',
  'V2.1': '122',
  'V2.2': '112',
  'V2.3': '12223',
  'V2.4': '23',
  'V3.1': '3',
  'V3.2': '113',
  'V3.3': '12223',
  'V3.4': '11222233',
  'V3.5': '11122333',
  'V3.6': '3',
  'V3.7': '22333',
  'V4.1': '12233',
  'V4.2': '23333',
  'V4.3': '22',
  'V4.4': '1222',
  'V5.1': '2',
  'V5.2': '112333',
  'V5.3': '113',
  'V5.4': '222',
  'V6.1': '122',
  'V6.2': '111111112222',
  'V6.3': '11223333',
  'V6.4': '112233',
  'V6.5': '22222333',
  'V6.6': '2223',
  'V6.7': '33',
  'V6.8': '2222',
  'V7.1': '222',
  'V7.2': '1111',
  'V7.3': '22',
  'V7.4': '11222',
  'V7.5': '223',
  'V7.6': '22',
  'V8.1': '1233',
  'V8.2': '1123',
  'V8.3': '133',
  'V8.4': '23',
  'V9.1': '111',
  'V9.2': '1222',
  'V10.1': '22',
  'V10.2': '223',
  'V10.3': '22223',
  'V10.4': '1111122222233333',
  'V10.5': '22222',
  'V10.6': '22',
  'V10.7': '222',
  'V11.1': '2233',
  'V11.2': '22233',
  'V11.3': '11233',
  'V11.4': '1222',
  'V11.5': '23',
  'V11.6': '23',
  'V11.7': '33',
  'V12.1': '12233',
  'V12.2': '11',
  'V12.3': '22223',
  'V13.1': '2333',
  'V13.2': '222223',
  'V13.3': '2233',
  'V13.4': '1222233',
  'V14.1': '22',
  'V14.2': '12223333',
  'V14.3': '122',
  'V15.1': '12233',
  'V15.2': '12233',
  'V15.3': '1222222',
  'V15.4': '3333',
  'V16.1': '2',
  'V16.2': '22222',
  'V16.3': '2222',
  'V16.4': '222',
  'V16.5': '2223',
  'V17.1': '23',
  'V17.2': '22223333',
  'V17.3': '22',
};

/** id → level for every ASVS 5.0.0 requirement. */
export const ASVS_LEVELS: ReadonlyMap<string, number> = new Map(
  Object.entries(SECTION_LEVELS).flatMap(([section, levels]) =>
    [...levels].map((level, i) => [`${section}.${i + 1}`, Number(level)] as const),
  ),
);

/** The level this mapping covers: every requirement at this level or below. */
export const MAPPED_LEVEL = 2;

export const STATUSES = ['met', 'partial', 'not-applicable', 'not-met'] as const;
export type Status = (typeof STATUSES)[number];

export interface Proof {
  /** A vitest file, relative to the repository root. */
  file: string;
  /** The test's name: `describe > it`, see namesTest in test-names.ts. */
  test: string;
}

export interface Requirement {
  id: string;
  chapter: string;
  level: number;
  /** The requirement, shortened. */
  text: string;
  status: Status;
  /** Why it does not apply (not-applicable only). */
  reason?: string;
  /** How it is met; for partial and not-met, what is missing. */
  note?: string;
  proof: Proof[];
}

export interface AsvsMapping {
  standard: string;
  level: number;
  /** Chapters left out as a whole, each with why. */
  chaptersOutOfScope: Record<string, string>;
  requirements: Requirement[];
}

const ID = /^V(\d{1,2})\.(\d{1,2})\.(\d{1,2})$/;
const REQUIREMENT_KEYS = new Set(['id', 'chapter', 'level', 'text', 'status', 'reason', 'note', 'proof']);
const PROOF_KEYS = new Set(['file', 'test']);

/** Compares ASVS ids numerically: V2.10.1 after V2.9.1. */
export function compareIds(a: string, b: string): number {
  const pa = a.slice(1).split('.').map(Number);
  const pb = b.slice(1).split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

export interface MappingReport {
  findings: string[];
  /** The mapping when its shape is readable (even with findings), for coverage and docs. */
  mapping?: AsvsMapping;
}

/**
 * Every problem with a mapping, one line each: a malformed, unknown or duplicated id, a wrong
 * chapter or level, an unknown status, a met or partial requirement without proof, a
 * not-applicable one without a reason, a partial or not-met one without a note saying what is
 * missing, and a proof whose file or test no longer exists (or is skipped).
 */
export async function checkMapping(raw: unknown, options: { root: string }): Promise<MappingReport> {
  const findings: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { findings: ['asvs: not a JSON object'] };
  const doc = raw as Record<string, unknown>;
  if (doc.standard !== STANDARD) findings.push(`asvs: "standard" must be "${STANDARD}"`);
  if (doc.level !== MAPPED_LEVEL) findings.push(`asvs: "level" must be ${MAPPED_LEVEL}`);
  const outOfScope = (doc.chaptersOutOfScope ?? {}) as Record<string, unknown>;
  for (const [chapter, why] of Object.entries(outOfScope)) {
    if (!Object.hasOwn(CHAPTERS, chapter)) findings.push(`asvs: chaptersOutOfScope: unknown chapter ${chapter}`);
    if (!isText(why)) findings.push(`asvs: chaptersOutOfScope: ${chapter} needs a reason`);
  }
  if (!Array.isArray(doc.requirements)) return { findings: [...findings, 'asvs: "requirements" must be an array'] };

  const tests = new Map<string, Promise<DeclaredTest[] | undefined>>();
  const testsOf = (file: string) => {
    let found = tests.get(file);
    if (!found) {
      const full = path.resolve(options.root, file);
      found = access(full).then(
        () => declaredTestsOf(full),
        () => undefined,
      );
      tests.set(file, found);
    }
    return found;
  };

  const seen = new Set<string>();
  const requirements: Requirement[] = [];
  for (const [index, item] of (doc.requirements as unknown[]).entries()) {
    if (typeof item !== 'object' || item === null) {
      findings.push(`asvs: requirements[${index}] is not an object`);
      continue;
    }
    const r = item as Record<string, unknown>;
    const id = typeof r.id === 'string' ? r.id : `requirements[${index}]`;
    const at = `asvs: ${id}`;
    for (const key of Object.keys(r)) if (!REQUIREMENT_KEYS.has(key)) findings.push(`${at}: unknown field "${key}"`);

    const m = typeof r.id === 'string' ? ID.exec(r.id) : null;
    if (!m) findings.push(`${at}: malformed id (expected V<chapter>.<section>.<requirement>, e.g. V6.2.1)`);
    else if (!ASVS_LEVELS.has(id)) findings.push(`${at}: not a requirement of ${STANDARD}`);
    if (seen.has(id)) findings.push(`${at}: duplicated id`);
    seen.add(id);

    const chapter = m ? `V${m[1]}` : undefined;
    if (chapter && r.chapter !== chapter) findings.push(`${at}: chapter must be "${chapter}"`);
    const level = ASVS_LEVELS.get(id);
    if (level !== undefined && r.level !== level) findings.push(`${at}: level must be ${level} (as in the standard)`);
    if (level !== undefined && level > MAPPED_LEVEL)
      findings.push(`${at}: Level ${level}, beyond this mapping's level`);
    if (!isText(r.text)) findings.push(`${at}: "text" is missing`);

    const status = r.status as Status;
    if (!STATUSES.includes(status)) {
      findings.push(`${at}: unknown status ${JSON.stringify(r.status)} (one of ${STATUSES.join(', ')})`);
    }
    if (status === 'not-applicable' && !isText(r.reason)) findings.push(`${at}: not-applicable needs a "reason"`);
    if (status !== 'not-applicable' && r.reason !== undefined) findings.push(`${at}: "reason" is for not-applicable`);
    if ((status === 'partial' || status === 'not-met') && !isText(r.note)) {
      findings.push(`${at}: ${status} needs a "note" saying what is missing`);
    }

    const proof = r.proof ?? [];
    if (!Array.isArray(proof)) {
      findings.push(`${at}: "proof" must be a list of {file, test}`);
      continue;
    }
    if ((status === 'met' || status === 'partial') && proof.length === 0) {
      findings.push(`${at}: ${status} without proof: name the test files and tests that show it`);
    }
    const proofs: Proof[] = [];
    for (const p of proof as unknown[]) {
      const entry = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
      for (const key of Object.keys(entry))
        if (!PROOF_KEYS.has(key)) findings.push(`${at}: proof: unknown field "${key}"`);
      if (!isText(entry.file) || !isText(entry.test)) {
        findings.push(`${at}: proof needs "file" and "test"`);
        continue;
      }
      const { file, test } = entry;
      proofs.push({ file, test });
      if (!/\.test\.ts$/.test(file) || path.isAbsolute(file) || file.split('/').includes('..')) {
        findings.push(`${at}: proof file ${file} is not a test file of this repository`);
        continue;
      }
      const declared = await testsOf(file);
      if (!declared) {
        findings.push(`${at}: proof file ${file} does not exist`);
        continue;
      }
      const matches = declared.filter((t) => namesTest(test, t));
      if (matches.length === 0) findings.push(`${at}: no test "${test}" in ${file}`);
      else if (matches.every((t) => t.skipped)) findings.push(`${at}: test "${test}" in ${file} is skipped`);
    }
    requirements.push({
      id,
      chapter: chapter ?? String(r.chapter),
      level: typeof r.level === 'number' ? r.level : 0,
      text: isText(r.text) ? r.text : '',
      status,
      ...(isText(r.reason) ? { reason: r.reason } : {}),
      ...(isText(r.note) ? { note: r.note } : {}),
      proof: proofs,
    });
  }
  return {
    findings,
    mapping: {
      standard: String(doc.standard),
      level: Number(doc.level),
      chaptersOutOfScope: Object.fromEntries(Object.entries(outOfScope).map(([k, v]) => [k, String(v)])),
      requirements,
    },
  };
}

export async function loadAndCheckMapping(file: string, options: { root: string }): Promise<MappingReport> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    return { findings: [`asvs: ${path.relative(options.root, file)}: ${(err as Error).message}`] };
  }
  return checkMapping(raw, options);
}

// ---- coverage ------------------------------------------------------------------------------------

export interface ChapterCoverage {
  chapter: string;
  name: string;
  /** Requirements of the standard in this chapter at the mapped level or below. */
  inStandard: number;
  met: number;
  partial: number;
  notApplicable: number;
  notMet: number;
  /** Ids of the standard (at the mapped level or below) this mapping does not list. */
  unmapped: string[];
}

/** Coverage of every chapter the mapping lists a requirement of, in chapter order. */
export function coverage(mapping: AsvsMapping): ChapterCoverage[] {
  const chapters = [...new Set(mapping.requirements.map((r) => r.chapter))].sort(
    (a, b) => Number(a.slice(1)) - Number(b.slice(1)),
  );
  return chapters.map((chapter) => {
    const mine = mapping.requirements.filter((r) => r.chapter === chapter);
    const listed = new Set(mine.map((r) => r.id));
    const ids = [...ASVS_LEVELS]
      .filter(([id, level]) => id.startsWith(`${chapter}.`) && level <= mapping.level)
      .map(([id]) => id);
    const count = (s: Status) => mine.filter((r) => r.status === s).length;
    return {
      chapter,
      name: CHAPTERS[chapter] ?? chapter,
      inStandard: ids.length,
      met: count('met'),
      partial: count('partial'),
      notApplicable: count('not-applicable'),
      notMet: count('not-met'),
      unmapped: ids.filter((id) => !listed.has(id)).sort(compareIds),
    };
  });
}

/** One line per chapter, as `npm run security` prints them. */
export function coverageLines(mapping: AsvsMapping): string[] {
  const lines = coverage(mapping).map(
    (c) =>
      `${c.chapter} ${c.name}: ${c.met} met, ${c.partial} partial, ${c.notApplicable} n/a, ${c.notMet} not met` +
      ` (${c.inStandard - c.unmapped.length}/${c.inStandard} L1-L${mapping.level} requirements mapped)`,
  );
  const all = mapping.requirements;
  const n = (s: Status) => all.filter((r) => r.status === s).length;
  lines.push(
    `total: ${all.length} requirements: ${n('met')} met, ${n('partial')} partial, ${n('not-applicable')} n/a, ` +
      `${n('not-met')} not met`,
  );
  return lines;
}

// ---- docs/ASVS.md --------------------------------------------------------------------------------

const STATUS_LABEL: Record<Status, string> = {
  met: 'met',
  partial: 'partial',
  'not-applicable': 'n/a',
  'not-met': 'not met',
};

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ');
const cell = (s: string) => oneLine(s).replace(/\\/g, '\\\\').replace(/\|/g, '\\|');

/** docs/ASVS.md, generated from the mapping: coverage, then a table per chapter. */
export function renderAsvsDoc(mapping: AsvsMapping): string {
  const out: string[] = [];
  const chapters = coverage(mapping);
  out.push(
    `# ${mapping.standard}: Level ${mapping.level} mapping`,
    '',
    '<!-- Generated from security/asvs.json by `npm run docs:asvs` (scripts/gen-asvs-docs.ts). Do not edit by hand. -->',
    '',
    `Each requirement of ${mapping.standard} up to Level ${mapping.level} in the chapters that apply to this`,
    'server, its status, and the tests that prove it. `security/asvs.json` is the source;',
    '`test/supply-chain/asvs.test.ts` fails when a named test no longer exists, when a met requirement',
    'names no test, and when this file is not what the JSON generates. `npm run security` prints the',
    'coverage (check `asvs`).',
    '',
    'Statuses: **met** (the tests named show it), **partial** (the tests show part; the note says what',
    'is missing), **n/a** (does not apply, with the reason), **not met** (the note says what is missing).',
    '',
    '## Maintaining the mapping',
    '',
    '- Each entry of `security/asvs.json` has `id`, `chapter`, `level` (as in the standard), `text` (short),',
    '  `status` (`met`, `partial`, `not-applicable`, `not-met`), `reason` (not-applicable only), `note`',
    '  (required for partial and not-met: what is missing) and `proof`, a list of `{file, test}`.',
    '  Only ids of ASVS 5.0.0 up to the mapped level are accepted (`scripts/lib/asvs/mapping.ts`',
    "  holds the standard's ids and levels); a met or partial entry needs at least one proof.",
    '- `test` names a vitest test as `describe > describe > it`, read from the source of `file`',
    '  (never by running it). Leading describe names may be left out (`inner > it`, or the `it` name',
    '  alone); inner ones may not. In names built at run time, each `${...}` of a template literal,',
    '  each `%s`/`%d`/`$field` of an `.each` title and any other expression is a wildcard that matches',
    '  the concrete text or the placeholder as written, never across the " > " between names. Skipped',
    '  and todo tests are no proof; `.skipIf`/`.runIf` tests (browser, clamd, Redis) count, and run',
    '  where their service is.',
    '- Read the test before naming it: it must attack the control, not just touch the route.',
    '- After editing the JSON, run `npm run docs:asvs`.',
    '',
    '## Coverage',
    '',
    `| Chapter | L1-L${mapping.level} in the standard | Mapped | Met | Partial | n/a | Not met |`,
    '| --- | --: | --: | --: | --: | --: | --: |',
  );
  for (const c of chapters) {
    out.push(
      `| ${c.chapter} ${c.name} | ${c.inStandard} | ${c.inStandard - c.unmapped.length} | ${c.met} | ${c.partial} | ` +
        `${c.notApplicable} | ${c.notMet} |`,
    );
  }
  const all = mapping.requirements;
  const n = (s: Status) => all.filter((r) => r.status === s).length;
  const standardTotal = chapters.reduce((sum, c) => sum + c.inStandard, 0);
  out.push(
    `| **Total** | ${standardTotal} | ${all.length} | ${n('met')} | ${n('partial')} | ${n('not-applicable')} | ` +
      `${n('not-met')} |`,
    '',
  );
  const outOfScope = Object.entries(mapping.chaptersOutOfScope).sort(
    ([a], [b]) => Number(a.slice(1)) - Number(b.slice(1)),
  );
  if (outOfScope.length > 0) {
    out.push('Chapters not mapped:', '');
    for (const [chapter, why] of outOfScope) out.push(`- ${chapter} ${CHAPTERS[chapter] ?? ''}: ${why}`);
    out.push('');
  }

  for (const c of chapters) {
    out.push(`## ${c.chapter} ${c.name}`, '');
    out.push(
      `${c.met} met, ${c.partial} partial, ${c.notApplicable} n/a, ${c.notMet} not met, of ` +
        `${c.inStandard} requirements at L1-L${mapping.level}.`,
      '',
    );
    const rows = mapping.requirements.filter((r) => r.chapter === c.chapter).sort((a, b) => compareIds(a.id, b.id));
    out.push('| ID | L | Requirement | Status | Proved by |', '| --- | - | --- | --- | --- |');
    for (const r of rows) {
      const files = [...new Set(r.proof.map((p) => p.file.split('/').slice(-2).join('/')))]
        .map((f) => `\`${cell(f)}\``)
        .join(', ');
      out.push(`| ${r.id} | ${r.level} | ${cell(r.text)} | ${STATUS_LABEL[r.status]} | ${files || '-'} |`);
    }
    out.push('');
    if (c.unmapped.length > 0) out.push(`Not assessed yet: ${c.unmapped.join(', ')}.`, '');
    out.push(`### ${c.chapter}: notes and tests`, '');
    for (const r of rows) {
      const why = r.reason ? `not applicable: ${oneLine(r.reason)}` : r.note ? oneLine(r.note) : '';
      out.push(`- **${r.id}** (${STATUS_LABEL[r.status]})${why ? `: ${why}` : ''}`);
      for (const p of r.proof) out.push(`  - \`${p.file}\`: ${oneLine(p.test)}`);
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
