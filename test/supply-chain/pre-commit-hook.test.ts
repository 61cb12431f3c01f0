/**
 * The pre-commit hook is the first net for a leaked credential: a key that never reaches history
 * never needs rotating. In a scratch repository with this project's hook configuration (husky,
 * lint-staged.config.mjs, .secretlintrc.json), a commit with a fake AWS key must be refused while
 * a clean commit goes through.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/supply-chain/types.js';
import { fakeAwsSecret } from './fixtures.js';

const exec = promisify(execFile);

const bins = ['husky/bin.js', 'lint-staged/bin/lint-staged.js', 'secretlint/bin/secretlint.js'];
const missing = bins.filter((b) => !existsSync(path.join(REPO_ROOT, 'node_modules', b)));
const gitWorks = await exec('git', ['--version']).then(
  () => true,
  () => false,
);
const skipReason = !gitWorks
  ? 'git is not installed'
  : missing.length > 0
    ? `not installed: ${missing.join(', ')}`
    : '';

describe.skipIf(skipReason !== '')(
  `pre-commit hook in a scratch repository${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let repo: string;
    const git = (...args: string[]) =>
      exec('git', args, {
        cwd: repo,
        env: {
          ...process.env,
          HUSKY: '',
          CI: '',
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@example.com',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@example.com',
        },
      });

    beforeAll(async () => {
      repo = await mkdtemp(path.join(os.tmpdir(), 'hook-'));
      await exec('git', ['init', '-q'], { cwd: repo });
      await mkdir(path.join(repo, '.husky'));
      for (const f of [
        '.husky/pre-commit',
        'lint-staged.config.mjs',
        '.secretlintrc.json',
        '.prettierrc',
        'eslint.config.js',
      ]) {
        await copyFile(path.join(REPO_ROOT, f), path.join(repo, f));
      }
      // The project's tools, without installing them again.
      await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(repo, 'node_modules'), 'dir');
      await writeFile(
        path.join(repo, 'package.json'),
        JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
      );
      await writeFile(path.join(repo, '.gitignore'), 'node_modules\n');
      // What `npm install` does through the "prepare" script.
      await exec(process.execPath, [path.join(REPO_ROOT, 'node_modules/husky/bin.js')], {
        cwd: repo,
        env: { ...process.env, HUSKY: '' },
      });
      await git('add', '-A');
      await git('commit', '-q', '--no-verify', '-m', 'scaffold');
    });
    afterAll(async () => {
      await rm(repo, { recursive: true, force: true });
    });

    it('is installed the way `npm install` installs it', async () => {
      const { stdout } = await git('config', 'core.hooksPath');
      expect(stdout.trim()).toBe('.husky/_');
      expect(existsSync(path.join(repo, '.husky/_/pre-commit'))).toBe(true);
    });

    it('lets a clean commit through', async () => {
      await writeFile(path.join(repo, 'notes.txt'), 'nothing to see\n');
      await git('add', 'notes.txt');
      await git('commit', '-q', '-m', 'clean');
      const { stdout } = await git('log', '--format=%s');
      expect(stdout.split('\n')[0]).toBe('clean');
    }, 60_000);

    it('blocks a commit containing a fake AWS key, and names the file', async () => {
      await writeFile(
        path.join(repo, 'deploy.env'),
        `AWS_ACCESS_KEY_ID=AKIA2OGYBAH6STMMNXNN\naws_secret_access_key = ${fakeAwsSecret()}\n`,
      );
      await git('add', 'deploy.env');
      const failure = await git('commit', '-m', 'leak').then(
        () => undefined,
        (err: { code?: number; stdout?: string; stderr?: string }) => err,
      );
      expect(failure, 'the commit was refused').toBeDefined();
      const output = `${failure?.stdout ?? ''}${failure?.stderr ?? ''}`;
      expect(output).toContain('deploy.env');
      expect(output).toMatch(/AWSSecretAccessKey|AWS Secret Access Key/);
      expect(output).not.toContain(fakeAwsSecret());
      const { stdout } = await git('log', '--format=%s');
      expect(stdout.split('\n')[0]).toBe('clean');
    }, 60_000);
  },
);
