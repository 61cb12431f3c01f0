/** A real server for a browser to talk to: the test app listening on a free loopback port. */
import type { AddressInfo } from 'node:net';
import { buildTestApp, type TestApp } from '../../helpers/app.js';
import { freePort } from '../../helpers/spawn.js';

export async function listeningTestApp(env: Record<string, string> = {}): Promise<{ t: TestApp; base: string }> {
  const t = await buildTestApp(env);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as AddressInfo;
  return { t, base: `http://127.0.0.1:${port}` };
}

/**
 * The test app on a free port with PUBLIC_URL `http://localhost:<port>`: localhost is a secure
 * context, so Chromium keeps the `__Host-` cookies and allows WebAuthn over plain http.
 */
export async function localhostTestApp(env: Record<string, string> = {}): Promise<{ t: TestApp; base: string }> {
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const t = await buildTestApp({ PUBLIC_URL: base, ...env });
  await t.app.listen({ host: '127.0.0.1', port });
  return { t, base };
}
