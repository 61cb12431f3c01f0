/**
 * `npm run security`: the supply-chain checks that can run on this machine, no GitHub needed.
 *
 *   eslint        eslint-plugin-security rules (errors fail; the noisy heuristics only warn)
 *   secrets       secretlint over the files git tracks or would add
 *   licenses      production dependencies against security/licenses.json
 *   audit         npm audit --omit=dev --audit-level=high, when the registry answers
 *   security-txt  the served security.txt parses by RFC 9116 and has not expired
 *   asvs          security/asvs.json (OWASP ASVS 5.0 mapping): every named test exists, docs/ASVS.md
 *                 is generated from it; prints the coverage per chapter
 *
 * Every finding is one line; the exit code is 1 when there is any. `-- --only a,b` runs a subset
 * (the security-scan workflow uses it per job). The checks live in scripts/lib/supply-chain/ so tests
 * can run each on planted problems.
 */
import { loadEnvFile } from '../src/config/env-file.js';
import { checkAudit } from './lib/supply-chain/audit.js';
import { checkEslintSecurity } from './lib/supply-chain/eslint-security.js';
import { checkLicenses, loadLicensePolicy } from './lib/supply-chain/licenses.js';
import { checkSecrets } from './lib/supply-chain/secrets.js';
import { checkSecurityTxt } from './lib/supply-chain/security-txt.js';
import { REPO_ROOT, type CheckResult } from './lib/supply-chain/types.js';

const CHECKS: Record<string, () => Promise<CheckResult>> = {
  eslint: () => checkEslintSecurity({ cwd: REPO_ROOT }),
  secrets: () => checkSecrets({ cwd: REPO_ROOT }),
  licenses: async () =>
    checkLicenses({ root: REPO_ROOT, policy: await loadLicensePolicy(`${REPO_ROOT}/security/licenses.json`) }),
  audit: () => checkAudit({ cwd: REPO_ROOT, level: 'high' }),
  'security-txt': async () => {
    // The values this machine's server would use: the environment, then .env.
    loadEnvFile(`${REPO_ROOT}/.env`);
    return checkSecurityTxt({ env: process.env, now: new Date() });
  },
  // Loaded on demand: it parses test sources with the TypeScript compiler, which the other checks do not need.
  asvs: async () => (await import('./lib/asvs/check.js')).checkAsvs({ root: REPO_ROOT }),
};

function selected(argv: string[]): string[] {
  const i = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (i < 0) return Object.keys(CHECKS);
  const arg = argv[i] ?? '';
  const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (argv[i + 1] ?? '');
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = names.filter((n) => !Object.hasOwn(CHECKS, n));
  if (names.length === 0 || unknown.length > 0) {
    process.stderr.write(
      `unknown check ${unknown.join(', ') || '(none)'}; choose from ${Object.keys(CHECKS).join(', ')}\n`,
    );
    process.exit(2);
  }
  return names;
}

async function main(): Promise<number> {
  let findings = 0;
  for (const name of selected(process.argv.slice(2))) {
    const started = Date.now();
    let result: CheckResult;
    try {
      // Checks run one after another: their output stays grouped and npm/secretlint do not compete.
      result = await CHECKS[name]!();
    } catch (err) {
      result = { name, findings: [`${name}: the check itself failed: ${(err as Error).message}`], notes: [] };
    }
    const status =
      result.findings.length === 0
        ? 'ok'
        : `${result.findings.length} finding${result.findings.length === 1 ? '' : 's'}`;
    process.stdout.write(`== ${name}: ${status} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    for (const n of result.notes) process.stdout.write(`   ${n}\n`);
    for (const f of result.findings) process.stdout.write(`FINDING ${f}\n`);
    findings += result.findings.length;
  }
  process.stdout.write(
    findings === 0 ? '\nsecurity: no findings\n' : `\nsecurity: ${findings} finding${findings === 1 ? '' : 's'}\n`,
  );
  return findings === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`security: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
