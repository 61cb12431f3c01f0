/**
 * security/asvs.json maps OWASP ASVS 5.0 (Level 2) to the tests that prove each requirement. This
 * file checks the real mapping (every named test still exists, docs/ASVS.md is generated from it),
 * then plants broken mappings in a scratch tree to show each rule fails: a renamed or deleted test,
 * a met requirement without proof, a duplicated or malformed id, an unknown status, a skipped test.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asvsDoc, checkAsvs, DOC_FILE, MAPPING_FILE } from '../../scripts/lib/asvs/check.js';
import { ASVS_LEVELS, checkMapping, coverage, type AsvsMapping } from '../../scripts/lib/asvs/mapping.js';
import { declaredTests, displayName, namesTest } from '../../scripts/lib/asvs/test-names.js';
import { REPO_ROOT } from '../../scripts/lib/supply-chain/types.js';

const exec = promisify(execFile);

describe('the real mapping (security/asvs.json)', () => {
  it('is valid: ASVS 5.0 ids at their levels, known statuses, proof for met, and every named test exists', async () => {
    const result = await checkAsvs({ root: REPO_ROOT });
    expect(result.findings).toEqual([]);
  }, 60_000);

  it('docs/ASVS.md is what `npm run docs:asvs` generates from it', async () => {
    const mapping = JSON.parse(await readFile(path.join(REPO_ROOT, MAPPING_FILE), 'utf8')) as AsvsMapping;
    expect(await readFile(path.join(REPO_ROOT, DOC_FILE), 'utf8')).toBe(asvsDoc(mapping));
  });

  it('covers the chapters the issue names, with every met requirement backed by a test', async () => {
    const mapping = JSON.parse(await readFile(path.join(REPO_ROOT, MAPPING_FILE), 'utf8')) as AsvsMapping;
    const chapters = coverage(mapping).map((c) => c.chapter);
    for (const chapter of ['V1', 'V2', 'V4', 'V5', 'V6', 'V7', 'V8', 'V13', 'V14', 'V16']) {
      expect(chapters).toContain(chapter);
    }
    expect(mapping.requirements.length).toBeGreaterThanOrEqual(80);
    for (const r of mapping.requirements.filter((x) => x.status === 'met')) expect(r.proof.length).toBeGreaterThan(0);
  });

  it('`npm run security -- --only asvs` passes and prints the coverage of each chapter', async () => {
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'scripts/security.ts', '--only', 'asvs'], {
      cwd: REPO_ROOT,
      timeout: 120_000,
    });
    expect(stdout).toMatch(/^== asvs: ok/m);
    expect(stdout).toMatch(
      /^ {3}asvs: V6 Authentication: \d+ met, \d+ partial, \d+ n\/a, \d+ not met \(\d+\/\d+ L1-L2/m,
    );
    expect(stdout).toMatch(/^ {3}asvs: total: \d+ requirements/m);
    expect(stdout).not.toContain('FINDING');
  }, 120_000);
});

// ---- reading test names -------------------------------------------------------------------------

const SOURCE = `
import { describe, it, test as check } from 'vitest';
import { it as notVitest } from './elsewhere';

describe('outer', () => {
  describe('inner', () => {
    it('plain name', () => {});
    it.each([['a', 1]])('case %s gives %d', () => {});
    it.each([{ path: 'projects' }])('$path lists', () => {});
  });
  it(\`template \${1 + 1} name\`, () => {});
  it('joined ' + String(2), () => {});
  it.skip('skipped one', () => {});
  it.todo('todo one');
  check.concurrent('aliased test', () => {});
});
describe.skipIf(process.env.NO_BROWSER)('browser', () => {
  it('runs where a browser is', () => {});
});
describe.each(['pglite', 'postgres'])('store on %s', (kind) => {
  it('keeps data', () => {});
});
function suite(name: string) {
  describe(name, () => {
    it('from a helper', () => {});
  });
}
suite('dynamic');
notVitest('not a vitest test', () => {});
`;

describe('test names read from source (the matching rule documented in test-names.ts)', () => {
  const tests = declaredTests('fixture.test.ts', SOURCE);
  const names = (reference: string) => tests.filter((t) => namesTest(reference, t)).map(displayName);

  it('finds every test with its describe path, modifiers and placeholders', () => {
    expect(
      tests.map((t) => `${displayName(t)}${t.skipped ? ' [skipped]' : ''}${t.conditional ? ' [if]' : ''}`),
    ).toEqual([
      'outer > inner > plain name',
      'outer > inner > case * gives *',
      'outer > inner > * lists',
      'outer > template * name',
      'outer > joined *',
      'outer > skipped one [skipped]',
      'outer > todo one [skipped]',
      'outer > aliased test',
      'browser > runs where a browser is [if]',
      'store on * > keeps data',
      '* > from a helper',
    ]);
  });

  it('a reference is the full path, or a tail of it that keeps the test name', () => {
    expect(names('outer > inner > plain name')).toEqual(['outer > inner > plain name']);
    expect(names('inner > plain name')).toEqual(['outer > inner > plain name']);
    expect(names('plain name')).toEqual(['outer > inner > plain name']);
    // An inner describe cannot be skipped, a name cannot be shortened, a describe alone is no test.
    expect(names('outer > plain name')).toEqual([]);
    expect(names('outer > inner > plain')).toEqual([]);
    expect(names('outer > inner')).toEqual([]);
  });

  it('placeholders match concrete values or themselves, never across " > "', () => {
    expect(names('outer > inner > case a gives 1')).toEqual(['outer > inner > case * gives *']);
    expect(names('outer > inner > case %s gives %d')).toEqual(['outer > inner > case * gives *']);
    expect(names('projects lists')).toEqual(['outer > inner > * lists']);
    expect(names('store on pglite > keeps data')).toEqual(['store on * > keeps data']);
    expect(names('outer > template 2 name')).toEqual(['outer > template * name']);
    expect(names('dynamic > from a helper')).toEqual(['* > from a helper']);
    expect(names('case a > b gives 1')).toEqual([]);
  });

  it("ignores calls that are not vitest's, whatever their name", () => {
    expect(names('not a vitest test')).toEqual([]);
  });
});

// ---- planted bad mappings -----------------------------------------------------------------------

describe('a broken mapping fails the check (planted in a scratch tree)', () => {
  let root: string;
  const FILE = 'src/feature/thing.test.ts';

  const good = () => ({
    standard: 'OWASP ASVS 5.0.0',
    level: 2,
    chaptersOutOfScope: { V17: 'No WebRTC.' },
    requirements: [
      {
        id: 'V6.2.1',
        chapter: 'V6',
        level: 1,
        text: 'Passwords are at least 8 characters.',
        status: 'met',
        proof: [{ file: FILE, test: 'outer > inner > plain name' }],
      },
      {
        id: 'V6.2.12',
        chapter: 'V6',
        level: 2,
        text: 'Breached passwords are refused.',
        status: 'partial',
        note: 'Offline dictionaries only.',
        proof: [{ file: FILE, test: 'store on postgres > keeps data' }],
      },
      {
        id: 'V6.6.1',
        chapter: 'V6',
        level: 2,
        text: 'SMS OTP only with validated numbers.',
        status: 'not-applicable',
        reason: 'No SMS.',
        proof: [],
      },
      {
        id: 'V7.3.2',
        chapter: 'V7',
        level: 2,
        text: 'Absolute session lifetime.',
        status: 'not-met',
        note: 'No absolute cap.',
        proof: [],
      },
    ],
  });
  type Mapping = ReturnType<typeof good>;
  type Entry = Mapping['requirements'][number] & Record<string, unknown>;

  async function findings(change: (m: Mapping & { requirements: Entry[] }) => void): Promise<string[]> {
    const mapping = good() as Mapping & { requirements: Entry[] };
    change(mapping);
    return (await checkMapping(mapping, { root })).findings;
  }

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'asvs-'));
    await mkdir(path.join(root, 'src/feature'), { recursive: true });
    await writeFile(path.join(root, FILE), SOURCE);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('the good fixture has no findings (so each finding below comes from its plant)', async () => {
    expect(await findings(() => {})).toEqual([]);
  });

  it('a referenced test that was renamed or deleted', async () => {
    expect(
      await findings((m) => {
        m.requirements[0]!.proof = [{ file: FILE, test: 'outer > inner > plain name, renamed' }];
      }),
    ).toEqual([`asvs: V6.2.1: no test "outer > inner > plain name, renamed" in ${FILE}`]);
  });

  it('a referenced test file that no longer exists, or is no test file of the repository', async () => {
    expect(
      await findings((m) => {
        m.requirements[0]!.proof = [
          { file: 'src/feature/gone.test.ts', test: 'plain name' },
          { file: 'src/feature/thing.ts', test: 'plain name' },
          { file: '../outside/x.test.ts', test: 'plain name' },
        ];
      }),
    ).toEqual([
      'asvs: V6.2.1: proof file src/feature/gone.test.ts does not exist',
      'asvs: V6.2.1: proof file src/feature/thing.ts is not a test file of this repository',
      'asvs: V6.2.1: proof file ../outside/x.test.ts is not a test file of this repository',
    ]);
  });

  it('a skipped or todo test proves nothing', async () => {
    expect(
      await findings((m) => {
        m.requirements[0]!.proof = [{ file: FILE, test: 'outer > skipped one' }];
      }),
    ).toEqual([`asvs: V6.2.1: test "outer > skipped one" in ${FILE} is skipped`]);
  });

  it('a met (or partial) requirement without proof', async () => {
    expect(
      await findings((m) => {
        m.requirements[0]!.proof = [];
        delete (m.requirements[1] as Partial<Entry>).proof;
      }),
    ).toEqual([
      'asvs: V6.2.1: met without proof: name the test files and tests that show it',
      'asvs: V6.2.12: partial without proof: name the test files and tests that show it',
    ]);
  });

  it('a duplicated id', async () => {
    expect(
      await findings((m) => {
        m.requirements.push({ ...m.requirements[0]! });
      }),
    ).toEqual(['asvs: V6.2.1: duplicated id']);
  });

  it('a malformed id, an id ASVS 5.0 does not have, a wrong chapter or level, a Level 3 requirement', async () => {
    const base = good().requirements[3]!;
    expect(
      await findings((m) => {
        m.requirements = [
          { ...base, id: 'V6.2' },
          { ...base, id: '6.2.1' },
          { ...base, id: 'V6.2.99', chapter: 'V6' },
          { ...base, id: 'V2.1.1', chapter: 'V7', level: 1 },
          { ...base, id: 'V7.3.1', chapter: 'V7', level: 1 },
          { ...base, id: 'V6.3.5', chapter: 'V6', level: 3 },
        ];
      }),
    ).toEqual([
      'asvs: V6.2: malformed id (expected V<chapter>.<section>.<requirement>, e.g. V6.2.1)',
      'asvs: 6.2.1: malformed id (expected V<chapter>.<section>.<requirement>, e.g. V6.2.1)',
      'asvs: V6.2.99: not a requirement of OWASP ASVS 5.0.0',
      'asvs: V2.1.1: chapter must be "V2"',
      'asvs: V7.3.1: level must be 2 (as in the standard)',
      "asvs: V6.3.5: Level 3, beyond this mapping's level",
    ]);
  });

  it('an unknown status, a not-applicable without reason, a partial or not-met without what is missing', async () => {
    expect(
      await findings((m) => {
        m.requirements[0]!.status = 'done';
        delete m.requirements[2]!.reason;
        delete m.requirements[1]!.note;
        delete m.requirements[3]!.note;
      }),
    ).toEqual([
      'asvs: V6.2.1: unknown status "done" (one of met, partial, not-applicable, not-met)',
      'asvs: V6.2.12: partial needs a "note" saying what is missing',
      'asvs: V6.6.1: not-applicable needs a "reason"',
      'asvs: V7.3.2: not-met needs a "note" saying what is missing',
    ]);
  });

  it('a misspelt field is reported, not ignored', async () => {
    expect(
      await findings((m) => {
        m.requirements[0]!.proofs = [];
        m.requirements[0]!.proof = [{ file: FILE, test: 'plain name', tset: 'x' } as never];
      }),
    ).toEqual(['asvs: V6.2.1: unknown field "proofs"', 'asvs: V6.2.1: proof: unknown field "tset"']);
  });

  it('the `asvs` security check fails on a broken mapping and on a stale docs/ASVS.md, and passes once both are right', async () => {
    await mkdir(path.join(root, 'security'), { recursive: true });
    await mkdir(path.join(root, 'docs'), { recursive: true });
    const broken = good();
    broken.requirements[0]!.proof = [];
    await writeFile(path.join(root, MAPPING_FILE), JSON.stringify(broken));
    const failed = await checkAsvs({ root });
    expect(failed.findings).toEqual([
      'asvs: V6.2.1: met without proof: name the test files and tests that show it',
      'asvs: docs/ASVS.md is missing: run npm run docs:asvs',
    ]);

    await writeFile(path.join(root, MAPPING_FILE), JSON.stringify(good()));
    await writeFile(path.join(root, DOC_FILE), 'edited by hand\n');
    expect((await checkAsvs({ root })).findings).toEqual([
      'asvs: docs/ASVS.md is not what security/asvs.json generates: run npm run docs:asvs',
    ]);

    await writeFile(path.join(root, DOC_FILE), asvsDoc(good() as AsvsMapping));
    const passed = await checkAsvs({ root });
    expect(passed.findings).toEqual([]);
    expect(passed.notes).toEqual([
      'asvs: V6 Authentication: 1 met, 1 partial, 1 n/a, 0 not met (3/35 L1-L2 requirements mapped)',
      'asvs: V7 Session Management: 0 met, 0 partial, 0 n/a, 1 not met (1/18 L1-L2 requirements mapped)',
      'asvs: total: 4 requirements: 1 met, 1 partial, 1 n/a, 1 not met',
    ]);
  });
});

describe("the ASVS 5.0 catalogue (transcribed from the standard's CSV)", () => {
  it("has the standard's requirement count and the levels of a few known ids", () => {
    expect(ASVS_LEVELS.size).toBe(345);
    expect([...ASVS_LEVELS.values()].filter((l) => l <= 2)).toHaveLength(253);
    expect(ASVS_LEVELS.get('V6.2.1')).toBe(1);
    expect(ASVS_LEVELS.get('V6.2.12')).toBe(2);
    expect(ASVS_LEVELS.get('V1.2.10')).toBe(3);
    expect(ASVS_LEVELS.get('V16.5.4')).toBe(3);
    expect(ASVS_LEVELS.has('V6.2.13')).toBe(false);
  });
});
