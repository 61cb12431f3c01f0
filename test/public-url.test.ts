/**
 * With PUBLIC_URL unset, every link the server hands out points to where it really listens:
 * signed media URLs, mailed one-time links, OpenAPI `servers`, security.txt. Before, the default
 * was a fixed http://127.0.0.1:3000, so `PORT=8080 npm start` mailed and signed links to port
 * 3000 (someone else's server, or nothing). Tried as a process on a free port, and in process
 * with PORT=0 (the port is only known once the server is bound).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers/app.js';
import { createPortfolio, createUser } from './helpers/factories.js';
import { freePort, startTs, waitFor } from './helpers/spawn.js';
import { startSmtpServer, type TestSmtpServer } from './support/mail/smtp-server.js';
import { multipart, png, upload } from './support/uploads/helpers.js';

const PASSWORD = 'Violet-Harbor-Lantern-42';

let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => {
  await smtp.close();
});

/** The password reset link mailed to `to`, as the recipient reads it. */
async function resetLinkTo(to: string): Promise<URL> {
  const RESET = /https?:\/\/\S+\/reset-password\?token=\S+/;
  let link: string | undefined;
  await waitFor(async () => {
    for (const m of smtp.received) {
      if (m.envelope.to.includes(to)) link ??= RESET.exec(m.parsed.text ?? '')?.[0];
    }
    return link !== undefined;
  }, 30_000);
  return new URL(link ?? '');
}

describe('PUBLIC_URL unset, server process on PORT=<free port>', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  let port: number;
  let base: string;
  let log = '';

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-public-url-'));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // startTs passes no PUBLIC_URL of the test runner's own (see cleanEnv in helpers/spawn.ts).
    child = startTs('src/server.ts', {
      DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: 'info',
      UPLOAD_SCAN: 'off',
      SMTP_URL: smtp.url,
      MAIL_POLL_INTERVAL: '1',
      // A busy test machine must not shed these requests.
      LOAD_SHED_MAX_EVENT_LOOP_DELAY: '0',
    });
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor(async () => (await fetch(`${base}/health/ready`)).status === 200, 90_000);
  }, 120_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('the ready log line names the URL it listens on', () => {
    expect(log).toContain(`"publicUrl":"${base}"`);
  });

  it('OpenAPI servers, security.txt, a signed media URL and a mailed link all point to that port', async () => {
    const json = { 'content-type': 'application/json' };
    const spec = (await (await fetch(`${base}/api/openapi.json`)).json()) as { servers: { url: string }[] };
    expect(spec.servers).toEqual([{ url: base }]);
    const docsSpec = (await (await fetch(`${base}/docs/json`)).json()) as { servers: { url: string }[] };
    expect(docsSpec.servers).toEqual([{ url: base }]);

    const securityTxt = await (await fetch(`${base}/.well-known/security.txt`)).text();
    expect(securityTxt).toContain(`Canonical: ${base}/.well-known/security.txt`);

    const email = `links-${port}@example.test`;
    expect(
      (
        await fetch(`${base}/api/auth/register`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ email, password: PASSWORD, name: 'L' }),
        })
      ).status,
    ).toBe(201);
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(login.status, await login.clone().text()).toBe(200);
    const auth = { authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}` };
    const portfolio = await fetch(`${base}/api/portfolios`, {
      method: 'POST',
      headers: { ...auth, ...json },
      body: JSON.stringify({ title: 'Links', slug: `links-${port}` }),
    });
    expect(portfolio.status).toBe(201);
    const { id: portfolioId } = (await portfolio.json()) as { id: string };
    const form = multipart({ category: 'gallery' }, { name: 'a.png', type: 'image/png', data: await png() });
    const uploaded = await fetch(`${base}/api/portfolios/${portfolioId}/media`, {
      method: 'POST',
      headers: { ...auth, ...form.headers },
      body: new Uint8Array(form.body),
    });
    expect(uploaded.status, await uploaded.clone().text()).toBe(202);
    const { id: mediaId } = (await uploaded.json()) as { id: string };
    let signed = '';
    await waitFor(async () => {
      const res = await fetch(`${base}/api/media/${mediaId}/url`, { headers: auth });
      if (res.status !== 200) return false;
      signed = ((await res.json()) as { url: string }).url;
      return true;
    }, 30_000);
    const signedUrl = new URL(signed);
    expect(signedUrl.origin).toBe(base);
    // And the link works where it points.
    expect((await fetch(signedUrl)).status).toBe(200);

    expect(
      (
        await fetch(`${base}/api/auth/password/forgot`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ email }),
        })
      ).status,
    ).toBe(202);
    const reset = await resetLinkTo(email);
    expect(reset.origin).toBe(base);
    expect(reset.pathname).toBe('/reset-password');
  }, 120_000);
});

describe('PUBLIC_URL unset, PORT=0: links follow the port the kernel picked', () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await buildTestApp({
      PORT: '0',
      UPLOAD_SCAN: 'off',
      UPLOAD_RETRY_INTERVAL: '0',
      SMTP_URL: smtp.url,
      MAIL_POLL_INTERVAL: '0',
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on a port');
    base = `http://127.0.0.1:${address.port}`;
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  it('OpenAPI servers, a signed media URL and a mailed link use the bound port', async () => {
    expect(t.app.publicUrl.href).toBe(base);
    const spec = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(spec.json().servers).toEqual([{ url: base }]);

    const owner = await createUser(t.app);
    const p = await createPortfolio(t.app, owner);
    const up = await upload(
      t.app,
      owner,
      { portfolioId: p.id },
      { name: 'a.png', type: 'image/png', data: await png() },
    );
    expect(up.statusCode, up.body).toBe(202);
    const link = await t.app.inject({ method: 'GET', url: `/api/media/${up.json().id}/url`, headers: owner.auth });
    expect(new URL(link.json().url).origin).toBe(base);

    const forgot = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password/forgot',
      payload: { email: owner.email },
    });
    expect(forgot.statusCode).toBe(202);
    // The mail is queued after the answer (anti-enumeration); deliver it by hand (no poller here).
    await waitFor(async () => {
      await t.app.mail.runOnce();
      return smtp.received.some((m) => m.envelope.to.includes(owner.email));
    }, 30_000);
    expect((await resetLinkTo(owner.email)).origin).toBe(base);
  }, 60_000);

  it('browser mode: our own origin is the bound one (CSRF check), the configured PORT=0 origin is not', async () => {
    const browser = await buildTestApp({ PORT: '0', AUTH_COOKIES: 'true' });
    try {
      await browser.app.listen({ host: '127.0.0.1', port: 0 });
      const address = browser.app.server.address();
      if (address === null || typeof address === 'string') throw new Error('not listening on a port');
      const own = `http://127.0.0.1:${address.port}`;
      const login = (origin: string) =>
        browser.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          headers: { origin },
          payload: { email: 'nobody@example.test', password: PASSWORD },
        });
      expect((await login(own)).json().code).toBe('INVALID_CREDENTIALS');
      expect((await login('http://127.0.0.1:0')).json().code).toBe('CSRF_FAILED');
      expect((await login('http://127.0.0.1:3000')).json().code).toBe('CSRF_FAILED');
    } finally {
      await browser.close();
    }
  }, 60_000);
});
