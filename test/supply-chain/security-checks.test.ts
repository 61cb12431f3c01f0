/**
 * `npm run security` must pass on this tree and fail on each planted problem: a secret in a tracked
 * file, a disallowed licence in the production tree, an expired security.txt, an eval, a high
 * advisory. Planted problems live in temporary folders (a scratch git repository, a fake
 * node_modules), never in this repository, and the fake secret is assembled at run time so this
 * file itself passes the secret scan.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interpretAudit } from '../../scripts/lib/supply-chain/audit.js';
import { checkEslintSecurity } from '../../scripts/lib/supply-chain/eslint-security.js';
import {
  checkLicenses,
  declaredLicense,
  licenseAllowed,
  loadLicensePolicy,
  type LicensePolicy,
} from '../../scripts/lib/supply-chain/licenses.js';
import { checkSecrets } from '../../scripts/lib/supply-chain/secrets.js';
import { checkSecurityTxt } from '../../scripts/lib/supply-chain/security-txt.js';
import { REPO_ROOT } from '../../scripts/lib/supply-chain/types.js';
import { fakeAwsSecret } from './fixtures.js';

const exec = promisify(execFile);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'supply-chain-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('the whole `npm run security` on this tree', () => {
  it('passes, one line per check, and says so', async () => {
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'scripts/security.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, SECURITY_TXT_EXPIRES: '', NODE_ENV: 'development' },
      timeout: 240_000,
    }).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`npm run security failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    for (const name of ['eslint', 'secrets', 'licenses', 'audit', 'security-txt']) {
      expect(stdout).toMatch(new RegExp(`^== ${name}: ok`, 'm'));
    }
    expect(stdout).not.toContain('FINDING');
    expect(stdout).toMatch(/security: no findings/);
  }, 240_000);

  it('--only runs a subset and refuses unknown names', async () => {
    const { stdout } = await exec(
      process.execPath,
      ['--import', 'tsx', 'scripts/security.ts', '--only', 'security-txt'],
      {
        cwd: REPO_ROOT,
      },
    );
    expect(stdout.match(/^== /gm)).toHaveLength(1);
    const failed = await exec(process.execPath, ['--import', 'tsx', 'scripts/security.ts', '--only', 'nope'], {
      cwd: REPO_ROOT,
    }).catch((err: { code?: number; stderr?: string }) => err);
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown check nope') });
  }, 60_000);
});

describe('secrets: secretlint over the files git would commit', () => {
  let repo: string;
  beforeAll(async () => {
    repo = path.join(tmp, 'scratch-repo');
    await mkdir(path.join(repo, 'config'), { recursive: true });
    await exec('git', ['init', '-q'], { cwd: repo });
    await writeFile(path.join(repo, 'README.md'), '# nothing secret here\n');
    await writeFile(path.join(repo, '.gitignore'), 'ignored.env\n');
    await writeFile(path.join(repo, 'config', 'aws.ini'), `[default]\naws_secret_access_key = ${fakeAwsSecret()}\n`);
    await writeFile(path.join(repo, 'ignored.env'), `AWS_SECRET_ACCESS_KEY=${fakeAwsSecret()}\n`);
    await exec('git', ['add', 'README.md', '.gitignore', 'config/aws.ini'], { cwd: repo });
  });

  it('finds the key in a tracked file, one line naming file, line and rule, with the value masked', async () => {
    const result = await checkSecrets({ cwd: repo });
    expect(result.findings).toEqual([
      expect.stringMatching(/^secrets: config\/aws\.ini:2 \[AWSSecretAccessKey\] found AWS Secret Access Key/),
    ]);
    expect(result.findings.join('\n')).not.toContain(fakeAwsSecret());
  });

  it('also finds it in a new file not yet added, but never scans ignored files', async () => {
    await writeFile(path.join(repo, 'new.txt'), `aws_secret_access_key = ${fakeAwsSecret()}\n`);
    const result = await checkSecrets({ cwd: repo });
    expect(result.findings.map((f) => f.split(' ')[1])).toEqual(['config/aws.ini:2', 'new.txt:1']);
    await rm(path.join(repo, 'new.txt'));
  });

  it('passes a clean repository and says what it scanned', async () => {
    const clean = path.join(tmp, 'clean-repo');
    await mkdir(clean);
    await exec('git', ['init', '-q'], { cwd: clean });
    await writeFile(path.join(clean, 'a.txt'), 'hello\n');
    const result = await checkSecrets({ cwd: clean });
    expect(result.findings).toEqual([]);
    expect(result.notes).toEqual(['secrets: 1 files scanned (tracked, plus untracked and not ignored)']);
  });

  it('outside a git checkout, says it skipped rather than failing', async () => {
    const plain = path.join(tmp, 'not-a-repo');
    await mkdir(plain);
    const result = await checkSecrets({ cwd: plain });
    expect(result.findings).toEqual([]);
    expect(result.notes[0]).toMatch(/skipped, not a git checkout/);
  });
});

describe('licenses: the allow-list over installed production dependencies', () => {
  const policy: LicensePolicy = {
    allowed: ['MIT', 'ISC', 'Apache-2.0', 'BSD-3-Clause'],
    exceptions: { 'reviewed-pkg': { license: 'LGPL-3.0-only', reason: 'dynamic use only, reviewed' } },
  };
  let root: string;

  async function pkg(dir: string, json: Record<string, unknown>) {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'package.json'), JSON.stringify(json));
  }

  beforeAll(async () => {
    root = path.join(tmp, 'fake-project');
    await pkg(root, {
      name: 'fake-project',
      version: '1.0.0',
      dependencies: { 'ok-mit': '1.0.0', 'dual-choice': '1.0.0', copyleft: '1.0.0', 'reviewed-pkg': '1.0.0' },
      devDependencies: { 'dev-only-gpl': '1.0.0' },
    });
    const nm = path.join(root, 'node_modules');
    await pkg(path.join(nm, 'ok-mit'), {
      name: 'ok-mit',
      version: '1.0.0',
      license: 'MIT',
      dependencies: { 'nested-none': '1.0.0' },
    });
    await pkg(path.join(nm, 'nested-none'), { name: 'nested-none', version: '1.0.0' });
    await pkg(path.join(nm, 'dual-choice'), {
      name: 'dual-choice',
      version: '1.0.0',
      license: '(MIT OR GPL-3.0-or-later)',
    });
    await pkg(path.join(nm, 'copyleft'), { name: 'copyleft', version: '1.0.0', license: 'GPL-3.0-only' });
    await pkg(path.join(nm, 'reviewed-pkg'), { name: 'reviewed-pkg', version: '1.0.0', license: 'LGPL-3.0-only' });
    await pkg(path.join(nm, 'dev-only-gpl'), { name: 'dev-only-gpl', version: '1.0.0', license: 'AGPL-3.0-only' });
  });

  it('fails on a disallowed licence and on a missing one, ignores dev dependencies, honours exceptions', async () => {
    const result = await checkLicenses({ root, policy });
    expect(result.findings).toEqual([
      'licenses: copyleft@1.0.0 is "GPL-3.0-only", not on the allow-list in security/licenses.json',
      'licenses: nested-none@1.0.0 declares no licence (add an exception in security/licenses.json after review)',
    ]);
    expect(result.notes).toContain('licenses: 5 production packages checked against 4 allowed licences');
  });

  it('an exception lapses when the package changes its licence', async () => {
    const changed: LicensePolicy = {
      ...policy,
      exceptions: { 'reviewed-pkg': { license: 'LGPL-2.1-only', reason: 'old review' } },
    };
    const result = await checkLicenses({ root, policy: changed });
    expect(result.findings).toContain(
      'licenses: reviewed-pkg@1.0.0 now declares "LGPL-3.0-only", the exception in security/licenses.json was for "LGPL-2.1-only"',
    );
  });

  it('reads SPDX expressions the way the licences combine', () => {
    const allowed = new Set(['MIT', 'Apache-2.0']);
    expect(licenseAllowed('MIT', allowed)).toBe(true);
    expect(licenseAllowed('(MIT OR GPL-2.0-only)', allowed)).toBe(true);
    expect(licenseAllowed('MIT AND GPL-2.0-only', allowed)).toBe(false);
    expect(licenseAllowed('(MIT AND Apache-2.0) OR GPL-3.0-only', allowed)).toBe(true);
    expect(licenseAllowed('MIT OR GPL-2.0-only AND BSD-3-Clause', allowed)).toBe(true); // AND binds tighter
    expect(licenseAllowed('GPL-2.0-only WITH Classpath-exception-2.0', allowed)).toBe(false);
    expect(licenseAllowed('SEE LICENSE IN LICENSE.md', allowed)).toBe(false);
    expect(licenseAllowed('(MIT', allowed)).toBe(false);
    expect(declaredLicense({ license: { type: 'ISC' } })).toBe('ISC');
    expect(declaredLicense({ licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] })).toBe('(MIT OR Apache-2.0)');
  });

  it('this repository passes with its own allow-list', async () => {
    const result = await checkLicenses({
      root: REPO_ROOT,
      policy: await loadLicensePolicy(path.join(REPO_ROOT, 'security/licenses.json')),
    });
    expect(result.findings).toEqual([]);
  });
});

describe('security-txt: the file this environment would serve', () => {
  const now = new Date('2026-06-01T00:00:00Z');

  it('fails when SECURITY_TXT_EXPIRES has passed', () => {
    const result = checkSecurityTxt({ env: { SECURITY_TXT_EXPIRES: '2026-05-01' }, now });
    expect(result.findings).toEqual([
      'security-txt: line 4: Expires 2026-05-01T00:00:00.000Z has passed: the file is stale (§2.5.5)',
    ]);
  });

  it('fails in production without a contact or an expiry', () => {
    const result = checkSecurityTxt({ env: { NODE_ENV: 'production', PUBLIC_URL: 'https://api.example.com' }, now });
    expect(result.findings).toEqual([
      expect.stringMatching(/^security-txt: SECURITY_CONTACT: must be set in production/),
      expect.stringMatching(/^security-txt: SECURITY_TXT_EXPIRES: must be set in production/),
    ]);
  });

  it('reports a bad value as a finding instead of throwing', () => {
    const result = checkSecurityTxt({ env: { SECURITY_CONTACT: 'http://insecure.example' }, now });
    expect(result.findings[0]).toMatch(/^security-txt: SECURITY_CONTACT: .* must use one of the schemes/);
  });

  it('passes a valid configuration, and notes an expiry under 30 days without failing', () => {
    const ok = checkSecurityTxt({ env: { SECURITY_TXT_EXPIRES: '2026-12-01' }, now });
    expect(ok.findings).toEqual([]);
    expect(ok.notes).toEqual([
      'security-txt: valid, expires 2026-12-01T00:00:00.000Z (in 183 days; SECURITY_TXT_EXPIRES)',
    ]);
    const soon = checkSecurityTxt({ env: { SECURITY_TXT_EXPIRES: '2026-06-15' }, now });
    expect(soon.findings).toEqual([]);
    expect(soon.notes[0]).toMatch(/expires in 14 days .* renew SECURITY_TXT_EXPIRES soon/);
  });
});

describe('eslint: the security rules', () => {
  it('fails on eval of an expression, an unsafe regex and a hidden character', async () => {
    const result = await checkEslintSecurity({
      cwd: REPO_ROOT,
      texts: [
        { filePath: 'src/planted-eval.ts', code: 'export const run = (code: string): unknown => eval(code);\n' },
        { filePath: 'src/planted-regex.ts', code: 'export const re = /^(a+)+$/;\n' },
        { filePath: 'src/planted-bidi.ts', code: 'export const s = "admin\u202E";\n' },
      ],
    });
    expect(result.findings.map((f) => f.replace(/:\d+:\d+ /, ' '))).toEqual([
      expect.stringMatching(/^eslint: src\/planted-eval\.ts \[security\/detect-eval-with-expression\]/),
      expect.stringMatching(/^eslint: src\/planted-regex\.ts \[security\/detect-unsafe-regex\]/),
      expect.stringMatching(/^eslint: src\/planted-bidi\.ts \[security\/detect-bidi-characters\]/),
    ]);
  });

  it('counts the advisory heuristics as notes, not findings', async () => {
    const result = await checkEslintSecurity({
      cwd: REPO_ROOT,
      texts: [
        {
          filePath: 'src/planted-fs.ts',
          code: "import { readFileSync } from 'node:fs';\nexport const read = (p: string) => readFileSync(p);\n",
        },
      ],
    });
    expect(result.findings).toEqual([]);
    expect(result.notes[0]).toMatch(/1 advisory warnings/);
  });
});

describe('audit: npm audit output', () => {
  it('a high advisory in a production dependency is a finding; moderate is not', () => {
    const report = {
      auditReportVersion: 2,
      vulnerabilities: {
        'bad-lib': {
          severity: 'high',
          range: '<1.2.3',
          via: [{ title: 'Prototype pollution', url: 'https://github.com/advisories/GHSA-xxxx' }],
        },
        'meh-lib': { severity: 'moderate', via: [{ title: 'ReDoS in a dev path' }] },
        'uses-bad': { severity: 'critical', via: ['bad-lib'] },
      },
      metadata: { vulnerabilities: { info: 0, low: 0, moderate: 1, high: 1, critical: 1, total: 3 } },
    };
    const result = interpretAudit(JSON.stringify(report), '', 'high');
    expect(result.findings).toEqual([
      'audit: bad-lib <1.2.3 is high: Prototype pollution (https://github.com/advisories/GHSA-xxxx)',
      'audit: uses-bad is critical: via bad-lib',
    ]);
  });

  it('a registry that cannot answer is said plainly and is not a finding', () => {
    const body = {
      message: '405 Method Not Allowed - POST https://registry.example/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
    };
    const result = interpretAudit(JSON.stringify(body), 'npm error audit endpoint returned an error', 'high');
    expect(result.findings).toEqual([]);
    expect(result.notes).toEqual([
      'audit: npm audit could not get an answer from the registry (405 Method Not Allowed - POST https://registry.example/-/npm/v1/security/advisories/bulk); not checked here',
    ]);
    expect(interpretAudit('', 'npm error code ENOTFOUND', 'high').notes[0]).toMatch(/ENOTFOUND/);
  });

  it('a clean report passes with the counts', () => {
    const clean = {
      vulnerabilities: {},
      metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0 } },
    };
    const result = interpretAudit(JSON.stringify(clean), '', 'high');
    expect(result.findings).toEqual([]);
    expect(result.notes[0]).toMatch(/0 high, 0 critical/);
  });
});
