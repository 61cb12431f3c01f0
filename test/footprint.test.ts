/**
 * Footprint (issue 16, item 5): a started server and `portfolio-admin` load what they use, when
 * they use it. Each process runs with a recorder (test/support/footprint/recorder.mjs) that logs
 * every module it loads; the heavy packages must be absent after start and after --help, and each
 * must appear once the first request (or command) that needs it has run, so none of these checks
 * can pass by recording nothing.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, waitFor } from './helpers/spawn.js';
import { loadedFrom, runRecorded, startRecorded } from './support/footprint/loaded.js';
import { multipart, png, simplePdf } from './support/uploads/helpers.js';

/** What the request path does not need at start (issue 16): loaded on first use only. */
const LAZY = [
  'sharp',
  'pdf-lib',
  'file-type',
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  'openpgp',
  '@zxcvbn-ts/core',
  '@zxcvbn-ts/language-common',
  '@zxcvbn-ts/language-en',
  'nodemailer',
  '@simplewebauthn/server',
  'qrcode',
  '@electric-sql/pglite-tools',
];

const present = (loaded: Set<string>, names: readonly string[]) => names.filter((n) => loaded.has(n));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pf-footprint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('server footprint (embedded defaults)', () => {
  let server: ChildProcess | undefined;
  const log = () => path.join(dir, 'server.log');
  const dataDir = () => path.join(dir, 'server-data');
  let base = '';
  const loaded = async () => (await loadedFrom(log())).packages;
  const json = async (url: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = startRecorded('src/server.ts', {
      env: { ...cleanEnv(), DATA_DIR: dataDir(), PORT: String(port), LOG_LEVEL: 'warn', MAIL_POLL_INTERVAL: '1' },
      log: log(),
    });
    // A deadline, not a measure: a new DATA_DIR is created and migrated by a child process, then
    // PGlite's WASM is compiled optimised (src/platform/db/pglite.ts), on a machine that may be
    // running the rest of the suite.
    await waitFor(async () => (await fetch(`${base}/health/ready`)).status === 200, 240_000);
  }, 270_000);
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const gone = new Promise((r) => server?.once('exit', r));
      server.kill('SIGTERM');
      await gone;
    }
  });

  it('is ready without any of the heavy packages, nor the PostgreSQL driver it does not use', async () => {
    const packages = await loaded();
    // The recorder saw the start (so an empty set cannot pass): the web framework and PGlite.
    expect(packages.has('fastify')).toBe(true);
    expect(packages.has('@electric-sql/pglite')).toBe(true);
    expect(present(packages, LAZY)).toEqual([]);
    expect(packages.has('pg')).toBe(false);
    // No REDIS_URL: the in-memory KV, without the Redis client.
    expect(packages.has('ioredis')).toBe(false);
  });

  it('loads each on the first request that needs it, and not before', async () => {
    const email = 'footprint@example.test';
    const password = 'Violet-Harbor-Lantern-42';

    // A password strength check: the zxcvbn dictionaries.
    expect(present(await loaded(), ['@zxcvbn-ts/core'])).toEqual([]);
    const reg = await json('/api/auth/register', { email, password, name: 'Footprint' });
    expect(reg.status, await reg.clone().text()).toBe(201);
    expect(present(await loaded(), ['@zxcvbn-ts/core', '@zxcvbn-ts/language-en'])).toHaveLength(2);

    // A mail (password reset; the outbox writes .eml files on embedded defaults): nodemailer.
    await json('/api/auth/password/forgot', { email });
    await waitFor(async () => (await loaded()).has('nodemailer'), 20_000);
    await waitFor(async () => (await readdir(path.join(dataDir(), 'outbox')).catch(() => [])).length > 0, 20_000);

    const login = await json('/api/auth/login', { email, password });
    expect(login.status).toBe(200);
    const auth = { authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}` };
    const portfolio = await json(
      '/api/portfolios',
      { title: 'Footprint', slug: 'footprint', visibility: 'public', published: true },
      auth,
    );
    expect(portfolio.status).toBe(201);
    const portfolioId = ((await portfolio.json()) as { id: string }).id;
    const send = async (name: string, type: string, data: Buffer, category: string) => {
      const { body, headers } = multipart({ category }, { name, type, data });
      const res = await fetch(`${base}/api/portfolios/${portfolioId}/media`, {
        method: 'POST',
        headers: { ...auth, ...headers },
        body,
      });
      expect(res.status, await res.clone().text()).toBe(202);
    };

    // An image upload: file-type (magic numbers) and sharp (probe, re-encode); still no pdf-lib.
    expect(present(await loaded(), ['file-type', 'sharp'])).toEqual([]);
    await send('photo.png', 'image/png', await png(), 'gallery');
    await waitFor(async () => present(await loaded(), ['file-type', 'sharp']).length === 2, 20_000);
    expect((await loaded()).has('pdf-lib')).toBe(false);

    // A PDF upload: pdf-lib.
    await send('resume.pdf', 'application/pdf', await simplePdf(), 'document');
    await waitFor(async () => (await loaded()).has('pdf-lib'), 20_000);

    // A passkey ceremony: @simplewebauthn/server.
    expect((await loaded()).has('@simplewebauthn/server')).toBe(false);
    const passkeyOptions = await json('/api/auth/passkey/options', {});
    expect(passkeyOptions.status, await passkeyOptions.clone().text()).toBe(200);
    expect((await loaded()).has('@simplewebauthn/server')).toBe(true);

    // A TOTP enrollment (its QR code): qrcode.
    expect((await loaded()).has('qrcode')).toBe(false);
    const enroll = await json('/api/auth/mfa/totp/enroll', { password }, auth);
    expect(enroll.status, await enroll.clone().text()).toBe(200);
    expect((await loaded()).has('qrcode')).toBe(true);

    // No request here needs these: S3 is not configured, and backups run from the CLI.
    expect(present(await loaded(), ['@aws-sdk/client-s3', 'openpgp', '@electric-sql/pglite-tools'])).toEqual([]);
  }, 120_000);
});

describe('portfolio-admin footprint', () => {
  const dataDir = () => path.join(dir, 'cli-data');
  let n = 0;
  const cli = async (args: string[], input?: string) => {
    const log = path.join(dir, `cli-${n++}.log`);
    const run = await runRecorded('src/cli/main.ts', args, {
      env: {
        ...cleanEnv(),
        DATA_DIR: dataDir(),
        LOG_LEVEL: 'silent',
        BACKUP_PASSPHRASE: 'footprint-backup-passphrase',
      },
      log,
      ...(input === undefined ? {} : { input }),
      timeoutMs: 90_000,
    });
    expect(run.code, run.stderr).toBe(0);
    return loadedFrom(log);
  };

  it('--help loads commander and no command, database or configuration schema', async () => {
    const { packages, sources } = await cli(['--help']);
    expect(packages.has('commander')).toBe(true);
    expect(present(packages, [...LAZY, '@electric-sql/pglite', 'pg', 'ioredis', 'fastify', 'typebox'])).toEqual([]);
    expect([...sources].filter((s) => /^src\/(config\/schema|platform\/|backup\/|security\/)/.test(s))).toEqual([]);
  }, 60_000);

  it('each command loads what it uses: the database for all, the rest only where it is needed', async () => {
    const db = await cli(['db', 'migrate']);
    expect(db.packages.has('@electric-sql/pglite')).toBe(true);
    expect(present(db.packages, [...LAZY, 'pg', 'ioredis', 'fastify'])).toEqual([]);

    const list = await cli(['users', 'list', '--json']);
    expect(list.packages.has('@electric-sql/pglite')).toBe(true);
    expect(present(list.packages, [...LAZY, 'pg', 'ioredis', 'fastify'])).toEqual([]);

    // Setting a password checks its strength: zxcvbn, and nothing else of the list.
    const created = await cli(
      ['users', 'create', '--email', 'admin@example.test', '--name', 'Admin', '--role', 'admin'],
      'Violet-Harbor-Lantern-42\n',
    );
    expect(present(created.packages, LAZY)).toEqual([
      '@zxcvbn-ts/core',
      '@zxcvbn-ts/language-common',
      '@zxcvbn-ts/language-en',
    ]);

    const backups = await cli(['backup', 'list', '--json']);
    expect(present(backups.packages, [...LAZY, 'pg', '@electric-sql/pglite'])).toEqual([]);

    // A backup of the embedded database: pg_dump (pglite-tools) and OpenPGP, not the pg driver.
    const backup = await cli(['backup', 'create']);
    expect(present(backup.packages, LAZY)).toEqual(['openpgp', '@electric-sql/pglite-tools']);
    expect(backup.packages.has('pg')).toBe(false);
  }, 240_000);
});
