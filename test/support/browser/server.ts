/** A real server for a browser to talk to: the test app listening on a free loopback port. */
import type { AddressInfo } from 'node:net';
import { buildTestApp, type TestApp } from '../../helpers/app.js';

export async function listeningTestApp(env: Record<string, string> = {}): Promise<{ t: TestApp; base: string }> {
  const t = await buildTestApp(env);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as AddressInfo;
  return { t, base: `http://127.0.0.1:${port}` };
}
