/**
 * Helpers for the MFA tests. TOTP codes come from `oathtool` (Debian's oath-toolkit), an
 * implementation independent of the `otpauth` library the server uses, so a bug shared by the
 * server and its tests cannot hide. Without oathtool (a laptop without the package) the codes
 * come from RFC-checked otpauth instead, with a note; in CI a missing oathtool is a failure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { codeAt } from '../../../src/security/mfa/totp.js';

// Not imported from test/helpers: this file sits under src/ (rootDir of the build).
const IN_CI = process.env['CI'] === 'true';

/** What the tests need of a user made by test/helpers/factories.ts. */
interface TestUser {
  email: string;
  password: string;
  auth: { authorization: string };
}

const OATHTOOL = ['/usr/bin/oathtool', '/usr/local/bin/oathtool'].find((p) => existsSync(p));
if (!OATHTOOL) {
  if (IN_CI) throw new Error('CI=true but oathtool is missing (apt-get install -y oathtool)');
  process.stderr.write('oathtool not found: TOTP test codes come from otpauth instead (apt-get install -y oathtool)\n');
}

/** The TOTP code of `secret` at `ms`, computed by oathtool. */
export function oathCode(secret: string, ms: number): string {
  if (!OATHTOOL) return codeAt(secret, ms);
  return execFileSync(OATHTOOL, ['--totp', '-b', secret, '--now', `@${Math.floor(ms / 1000)}`], {
    encoding: 'utf8',
  }).trim();
}

export const UA = 'Mozilla/5.0 (X11; Linux x86_64) mfa-test/1.0';

/** Headers of a client: its user agent and, optionally, a bearer token. */
export function client(token?: string, ua = UA): Record<string, string> {
  return { 'user-agent': ua, ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

export interface Enrolled {
  secret: string;
  backupCodes: string[];
}

/** Enrolls TOTP for the user through the API; the clock is moved to the next step afterwards so the next code is fresh. */
export async function enrollTotp(
  app: FastifyInstance,
  clock: { now(): Date; advance(ms: number): void },
  user: TestUser,
): Promise<Enrolled> {
  const enroll = await app.inject({
    method: 'POST',
    url: '/api/auth/mfa/totp/enroll',
    headers: user.auth,
    payload: { password: user.password },
  });
  expect(enroll.statusCode, enroll.body).toBe(200);
  const { secret } = enroll.json<{ secret: string }>();
  const confirm = await app.inject({
    method: 'POST',
    url: '/api/auth/mfa/totp/confirm',
    headers: user.auth,
    payload: { code: oathCode(secret, clock.now().getTime()) },
  });
  expect(confirm.statusCode, confirm.body).toBe(200);
  clock.advance(30_000);
  return { secret, backupCodes: confirm.json<{ backupCodes: string[] }>().backupCodes };
}

/** Password login from a client; returns the parsed body and status. */
export async function login(
  app: FastifyInstance,
  user: { email: string; password: string },
  headers: Record<string, string> = client(),
) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    headers,
    payload: { email: user.email, password: user.password },
  });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>(), res };
}

export async function verify(
  app: FastifyInstance,
  payload: Record<string, unknown>,
  headers: Record<string, string> = client(),
) {
  const res = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', headers, payload });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>(), res };
}

/** The claims of a JWT, unverified (the server verified it; tests only read it). */
export function claimsOf(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
