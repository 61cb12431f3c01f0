/**
 * Secret scanning with secretlint over the files git would commit: tracked files plus untracked
 * ones that are not ignored (so a key is caught before its first `git add`, not only after).
 * The pre-commit hook runs the same tool on staged files; this is the net behind it (a commit made
 * with --no-verify, or from a machine without the hook).
 */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from './exec.js';
import { REPO_ROOT, type CheckResult } from './types.js';

const SECRETLINT_BIN = path.join(REPO_ROOT, 'node_modules', 'secretlint', 'bin', 'secretlint.js');

/** Files git tracks or would add (`git ls-files --cached --others --exclude-standard`); undefined outside a repository. */
export async function gitFiles(cwd: string): Promise<string[] | undefined> {
  const res = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd });
  if (res.code !== 0) return undefined;
  const files = res.stdout.split('\0').filter((f) => f !== '');
  // A tracked file deleted in the working tree has nothing left to scan.
  return [...new Set(files)].sort().filter((f) => {
    try {
      return statSync(path.join(cwd, f)).isFile();
    } catch {
      return false;
    }
  });
}

interface SecretlintMessage {
  message: string;
  ruleId: string;
  messageId?: string;
  loc?: { start?: { line?: number; column?: number } };
}
interface SecretlintResult {
  filePath: string;
  messages: SecretlintMessage[];
}

/**
 * Runs secretlint on `files` (relative to `cwd`), with `cwd`'s .secretlintrc.json (or this
 * repository's when the folder has none). Secrets are masked in the output.
 */
export async function scanFiles(cwd: string, files: readonly string[]): Promise<CheckResult> {
  const result: CheckResult = { name: 'secrets', findings: [], notes: [] };
  const rc = existsSync(path.join(cwd, '.secretlintrc.json'))
    ? path.join(cwd, '.secretlintrc.json')
    : path.join(REPO_ROOT, '.secretlintrc.json');
  const ignore = path.join(cwd, '.secretlintignore');
  const base = [SECRETLINT_BIN, '--format', 'json', '--no-color', '--no-glob', '--maskSecrets', '--secretlintrc', rc];
  if (existsSync(ignore)) base.push('--secretlintignore', ignore);
  // The report goes to a file: secretlint exits as soon as it has written, and a large report on a
  // pipe would be cut off at the pipe's buffer size.
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'secretlint-'));
  try {
    // Chunks keep the argument list well under the OS limit on large trees.
    for (let i = 0; i < files.length; i += 400) {
      const chunk = files.slice(i, i + 400);
      const out = path.join(tmp, `report-${i}.json`);
      const res = await run(process.execPath, [...base, '--output', out, ...chunk], { cwd, timeoutMs: 300_000 });
      let parsed: SecretlintResult[];
      try {
        parsed = JSON.parse(await readFile(out, 'utf8')) as SecretlintResult[];
      } catch {
        const why = res.error ?? (res.stderr.trim().split('\n')[0] || `exit ${String(res.code)}`);
        result.findings.push(`secrets: secretlint did not run: ${why}`);
        return result;
      }
      for (const file of parsed) {
        for (const m of file.messages) {
          const where = `${path.relative(cwd, file.filePath)}:${m.loc?.start?.line ?? '?'}`;
          result.findings.push(`secrets: ${where} [${m.messageId ?? m.ruleId}] ${m.message}`);
        }
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return result;
}

export async function checkSecrets(options: { cwd: string }): Promise<CheckResult> {
  const files = await gitFiles(options.cwd);
  if (files === undefined) {
    return {
      name: 'secrets',
      findings: [],
      notes: ['secrets: skipped, not a git checkout (nothing to compare with what would be committed)'],
    };
  }
  const result = await scanFiles(options.cwd, files);
  result.notes.push(`secrets: ${files.length} files scanned (tracked, plus untracked and not ignored)`);
  return result;
}
