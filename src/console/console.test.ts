/**
 * How the server serves the web console (plain HTTP, no browser): every console path answers
 * index.html no-store, every built file is cached immutable, all under the strict CSP with
 * no-referrer and nosniff; only the files the Vite manifest names are served (no request path
 * reaches the file system); a missing build is a clear 503 CONSOLE_NOT_BUILT, never a 500.
 * dist/web is built by the test run's global setup (test/global-setup.ts).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_PLUGINS } from '../app.js';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { CONSOLE_OUT } from '../../scripts/lib/console/build.js';
import { ASSET_CACHE, CONSOLE_CSP, consolePlugin, consolePluginFrom, INDEX_CACHE } from './plugin.js';
import { defaultConsoleDir } from './files.js';

const PAGES = [
  '/reset-password',
  '/verify-email',
  '/unlock-account',
  '/accept-invite',
  '/was-this-you',
  '/forgot-password',
  '/account/sign-in',
  '/account',
  '/account/sessions',
  '/account/security/passkeys',
  '/reset-password?token=abc',
  '/account/',
  '/admin',
  '/admin/portfolios',
  '/admin/portfolios/0190a5f0-0000-7000-8000-000000000000',
];

const EXPECTED_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
];

function cspDirectives(header: unknown): string[] {
  return String(header)
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean);
}

async function builtAssets(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(path.join(CONSOLE_OUT, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    { file: string; css?: string[]; assets?: string[] }
  >;
  return [...new Set(Object.values(manifest).flatMap((c) => [c.file, ...(c.css ?? []), ...(c.assets ?? [])]))].map(
    (f) => `/${f}`,
  );
}

describe('the console served', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reads dist/web beside the compiled server, or the repository dist/web from src/', () => {
    expect(defaultConsoleDir(path.resolve('dist/console'))).toBe(path.resolve('dist/web'));
    expect(defaultConsoleDir(path.resolve('src/console'))).toBe(path.resolve('dist/web'));
    expect(defaultConsoleDir()).toBe(CONSOLE_OUT);
  });

  it('answers index.html no-store with the strict CSP, no-referrer and nosniff on every console path', async () => {
    const index = await readFile(path.join(CONSOLE_OUT, 'index.html'));
    for (const url of PAGES) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control'], url).toBe(INDEX_CACHE);
      expect(res.headers['cache-control'], url).toBe('no-store');
      expect(cspDirectives(res.headers['content-security-policy']), url).toEqual(EXPECTED_CSP);
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.rawPayload.equals(index), url).toBe(true);
    }
  });

  it('the policy allows no inline code and no eval, and the built page needs none', async () => {
    expect(CONSOLE_CSP).not.toMatch(/unsafe-|nonce-|sha256-|\*|https?:/);
    const html = await readFile(path.join(CONSOLE_OUT, 'index.html'), 'utf8');
    // Every script is a file of this origin; no inline script, style element, style attribute or handler.
    const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [tag, body] of scripts) {
      expect(tag).toMatch(/\ssrc="\/assets\/[^"]+\.js"/);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/https?:\/\//);
    for (const url of await builtAssets()) {
      if (!url.endsWith('.js')) continue;
      const code = await readFile(path.join(CONSOLE_OUT, url), 'utf8');
      expect(code, url).not.toMatch(/\beval\(|new Function\(/);
    }
  });

  it('serves exactly the built files, cached immutable, each with its type, CSP and nosniff', async () => {
    const assets = await builtAssets();
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const url of assets) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(url).toMatch(/^\/assets\/[\w.-]+-[\w-]{8}\.\w+$/);
      expect(res.headers['cache-control'], url).toBe(ASSET_CACHE);
      expect(res.headers['cache-control'], url).toBe('public, max-age=31536000, immutable');
      expect(cspDirectives(res.headers['content-security-policy']), url).toEqual(EXPECTED_CSP);
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      const type = String(res.headers['content-type']);
      if (url.endsWith('.js')) expect(type).toBe('text/javascript; charset=utf-8');
      if (url.endsWith('.css')) expect(type).toBe('text/css; charset=utf-8');
      if (url.endsWith('.svg')) expect(type).toBe('image/svg+xml');
      expect(res.rawPayload.equals(await readFile(path.join(CONSOLE_OUT, url))), url).toBe(true);
    }
  });

  it('compresses scripts when asked, and the bytes decode to the file', async () => {
    const url = (await builtAssets()).find((a) => /\/index-[^/]+\.js$/.test(a)) as string;
    const file = await readFile(path.join(CONSOLE_OUT, url));
    const br = await t.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip, br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(String(br.headers['vary'])).toMatch(/accept-encoding/i);
    expect(zlib.brotliDecompressSync(br.rawPayload).equals(file)).toBe(true);
    const gz = await t.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.rawPayload).equals(file)).toBe(true);
    expect(gz.headers['cache-control']).toBe(ASSET_CACHE);
  });

  it('no request path reaches the file system: only names from the manifest are served', async () => {
    const attempts = [
      '/assets/..%2f.vite%2fmanifest.json',
      '/assets/%2e%2e%2f.source-hash',
      '/assets/..%2F..%2Fpackage.json',
      '/assets/..%5C..%5Cpackage.json',
      '/assets/.vite',
      '/assets/index.html',
      '/assets/index-00000000.js',
      '/.vite/manifest.json',
      '/.source-hash',
      '/index.html',
      '/assets/',
      '/console/../package.json',
    ];
    for (const url of attempts) {
      const res = await t.app.inject({ method: 'GET', url });
      expect([400, 404], url).toContain(res.statusCode);
      expect(res.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(res.body, url).not.toMatch(/"isEntry"|"devDependencies"|\b[0-9a-f]{64}\b/);
      // An unknown name is never cached: the next build's file must be asked for.
      expect(res.headers['cache-control'] ?? '', url).not.toMatch(/immutable/);
    }
  });

  it('serves the admin at /admin; the old audit dashboard is gone (its Audit log screen is /admin/audit)', async () => {
    const index = await readFile(path.join(CONSOLE_OUT, 'index.html'), 'utf8');
    const admin = await t.app.inject({ method: 'GET', url: '/admin' });
    expect(admin.statusCode).toBe(200);
    expect(admin.body).toBe(index);
    for (const url of ['/admin/audit', '/admin/legacy-audit']) {
      const page = await t.app.inject({ method: 'GET', url });
      expect(page.statusCode, url).toBe(200);
      expect(page.body, url).toBe(index);
    }
  });

  it('is registered in FEATURE_PLUGINS', () => {
    expect(FEATURE_PLUGINS).toContain(consolePlugin);
  });
});

describe('the console not built', () => {
  let t: TestApp;
  let empty: string;
  beforeAll(async () => {
    empty = await mkdtemp(path.join(os.tmpdir(), 'pf-console-none-'));
    const features = FEATURE_PLUGINS.map((p) => (p === consolePlugin ? consolePluginFrom(empty) : p));
    t = await buildTestApp({}, { features });
  });
  afterAll(async () => {
    await t?.close();
    await rm(empty, { recursive: true, force: true });
  });

  it('answers each console path and asset with problem+json 503 CONSOLE_NOT_BUILT, never a 500', async () => {
    for (const url of [...PAGES, '/assets/index-0A3H4B_q.js']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(503);
      expect(res.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(res.json(), url).toMatchObject({ status: 503, code: 'CONSOLE_NOT_BUILT' });
      expect(res.json().detail, url).toMatch(/npm run build/);
      expect(res.headers['cache-control'], url).toBe('no-store');
      expect(cspDirectives(res.headers['content-security-policy']), url).toEqual(EXPECTED_CSP);
    }
    // The API itself is unaffected.
    expect((await t.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
  });
});
