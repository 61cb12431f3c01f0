/**
 * A browser context signed in without the sign-in page: the console's own calls (POST
 * /api/auth/login, then /api/auth/mfa/verify with a code when the account has a second factor)
 * made in browser mode from our origin through the context's request API, which shares the
 * context's cookie store. The server answers the same httpOnly access and refresh cookies and the
 * CSRF cookie the sign-in page would get, so the next page opened in the context is signed in.
 *
 * For tests that are about a screen behind the sign-in, not about signing in: each gets its own
 * session (no refresh token shared between contexts, so a silent refresh in one never makes the
 * rotated token of another look reused), without loading and filling in the sign-in page first.
 * The sign-in page itself is driven by src/console/sign-in.test.ts and by the tests that follow a
 * redirect through it.
 */
import type { BrowserContext } from 'playwright-core';

export interface SignInAs {
  email: string;
  password: string;
  /** The current authentication code when the account has TOTP (called after the password step). */
  code?: () => string;
}

export async function signInThroughApi(context: BrowserContext, base: string, user: SignInAs): Promise<void> {
  const headers = { origin: base, 'x-auth-mode': 'browser' };
  const login = await context.request.post(`${base}/api/auth/login`, {
    headers,
    data: { email: user.email, password: user.password },
  });
  const body = (await login.json()) as { mfaRequired?: boolean; mfaToken?: string };
  if (login.status() !== 200) throw new Error(`sign-in of ${user.email}: ${login.status()} ${JSON.stringify(body)}`);
  if (body.mfaRequired) {
    if (!user.code) throw new Error(`sign-in of ${user.email}: a second factor is required and no code was given`);
    const verify = await context.request.post(`${base}/api/auth/mfa/verify`, {
      headers,
      data: { mfaToken: body.mfaToken, code: user.code() },
    });
    if (verify.status() !== 200)
      throw new Error(`second factor of ${user.email}: ${verify.status()} ${await verify.text()}`);
  }
  const names = (await context.cookies(base)).map((c) => c.name);
  if (!names.includes('__Host-access'))
    throw new Error(`sign-in of ${user.email}: no access cookie (${names.join(', ')})`);
}
