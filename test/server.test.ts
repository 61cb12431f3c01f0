/**
 * The server as a process: embedded defaults persist under DATA_DIR across restarts, bad
 * configuration stops it with the list of bad keys, and SIGTERM drains in-flight requests.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runTs, startTs, waitFor } from './helpers/spawn.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-server-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function boot(port: number): Promise<ChildProcess> {
  // Load shedding is off in test children (helpers/spawn.ts cleanEnv): a busy CI machine would
  // otherwise answer this test's register or login with 503.
  const child = startTs('src/server.ts', { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200, 90_000);
  return child;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe('server process', () => {
  it('stops with exit 78 and a list of every bad key', async () => {
    const res = await runTs('src/server.ts', [], { env: { PORT: 'x', LOG_LEVEL: 'shouty', DATA_DIR: dataDir } });
    expect(res.code).toBe(78);
    expect(res.stderr).toMatch(/Invalid configuration/);
    expect(res.stderr).toMatch(/PORT: must be an integer/);
    expect(res.stderr).toMatch(/LOG_LEVEL: must be one of/);
  });

  it('refuses production on unsafe defaults and names them', async () => {
    const res = await runTs('src/server.ts', [], { env: { NODE_ENV: 'production', DATA_DIR: dataDir } });
    expect(res.code).toBe(78);
    expect(res.stderr).toMatch(/JWT_SECRET/);
  });

  it('keeps data and tokens across a restart, and drains on SIGTERM', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let child = await boot(port);
    const email = 'persist@example.test';
    const password = 'Violet-Harbor-Lantern-42';
    const reg = await fetch(`${base}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, name: 'P' }),
    });
    expect(reg.status).toBe(201);
    const loginRes = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    expect(loginRes.status).toBe(200);
    const login = (await loginRes.json()) as { accessToken: string };

    // A request whose body is still arriving when SIGTERM comes must still get its answer.
    const body = JSON.stringify({ email, password });
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.write(
      `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    socket.write(body.slice(0, 10));
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    // write, not end: a client that half-closes its side gets its socket ended by Node before a
    // slow handler (argon2) can answer; real clients keep the socket open for the answer.
    socket.write(body.slice(10));
    await new Promise((r) => socket.once('close', r));
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(await exitOf(child)).toBe(0);

    child = await boot(port);
    try {
      const me = await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${login.accessToken}` } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { user: { email: string } }).user.email).toBe(email);
    } finally {
      child.kill('SIGTERM');
      expect(await exitOf(child)).toBe(0);
    }
  }, 240_000);
});
