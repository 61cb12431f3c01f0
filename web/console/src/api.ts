/**
 * Calls to this server's API: same origin only, JSON in, JSON or problem+json out. Cookies go
 * along (browser mode) and a state change echoes the CSRF cookie in X-CSRF-Token. No token is
 * ever kept in localStorage or sessionStorage.
 */
export interface Problem {
  status: number;
  code: string;
  detail: string;
  /** Field-level problems (VALIDATION_FAILED): JSON pointer paths such as `/newPassword`. */
  errors: { path: string; message: string }[];
  /** Seconds from the Retry-After header (429, 503) or the body's `retryAfter`, when the server sent one. */
  retryAfter: number | null;
}

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; problem: Problem };

const CSRF_COOKIE = '__Host-csrf';

export function csrfToken(): string | null {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CSRF_COOKIE) return decodeURIComponent(value.join('='));
  }
  return null;
}

function asProblem(status: number, body: unknown, retryAfter: string | null): Problem {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const errors = Array.isArray(b['errors'])
    ? (b['errors'] as unknown[]).flatMap((e) => {
        const r = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
        return typeof r['path'] === 'string' && typeof r['message'] === 'string'
          ? [{ path: r['path'], message: r['message'] }]
          : [];
      })
    : [];
  // Retry-After when the server sent it, else the problem body's `retryAfter` (the same seconds).
  const fromBody = b['retryAfter'];
  const seconds =
    retryAfter !== null && /^\d+$/.test(retryAfter)
      ? Number(retryAfter)
      : typeof fromBody === 'number' && Number.isInteger(fromBody) && fromBody >= 0
        ? fromBody
        : null;
  return {
    status,
    code: typeof b['code'] === 'string' ? b['code'] : status >= 500 ? 'SERVER_ERROR' : 'UNKNOWN',
    detail: typeof b['detail'] === 'string' ? b['detail'] : '',
    errors,
    retryAfter: seconds,
  };
}

/** How one call behaves when the session behind it is gone (see `api`). */
export interface ApiOptions {
  /**
   * false: on an expired session only try the silent refresh, never ask the user to sign in (the
   * account area's "who am I" check: a visitor who is not signed in goes to the sign-in page).
   */
  signIn?: boolean;
}

/**
 * Asks the user to sign in again, in place (components/SessionDialog.tsx): `expired` when the
 * session ended, `reauth` when the server wants a recent sign-in for this action
 * (REAUTH_REQUIRED). Resolves true once the same user is signed in again, false if they gave up.
 */
export type SignInPrompt = (reason: 'expired' | 'reauth') => Promise<boolean>;

let signInPrompt: SignInPrompt | null = null;
let pendingPrompt: Promise<boolean> | null = null;
let pendingRefresh: Promise<boolean> | null = null;
let knownUser: { id: string; email: string } | null = null;

/** Installs (or, with null, removes) the in-place sign-in every API call may ask for. */
export function setSignInPrompt(prompt: SignInPrompt | null): void {
  signInPrompt = prompt;
}

/** The user the last successful `GET /api/auth/me` named: a re-sign-in must be this user to retry. */
export function signedInUser(): { id: string; email: string } | null {
  return knownUser;
}

/** The sign-in calls themselves: a 401 there is the answer (wrong password, code), not a lost session. */
const SIGN_IN_PATHS = [
  '/api/auth/login',
  '/api/auth/refresh',
  '/api/auth/logout',
  '/api/auth/mfa/verify',
  '/api/auth/mfa/passkeys/challenge',
  '/api/auth/passkey/',
];

function isSignInCall(path: string): boolean {
  return SIGN_IN_PATHS.some((p) => path === p || (p.endsWith('/') && path.startsWith(p)));
}

/** Did this answer say the session is gone (expired, revoked, signed out elsewhere)? */
function sessionLost(res: ApiResult<unknown>): boolean {
  return (
    !res.ok &&
    res.problem.status === 401 &&
    (res.problem.code === 'INVALID_TOKEN' || res.problem.code === 'UNAUTHORIZED')
  );
}

function headersFor(method: string, body: unknown): Record<string, string> {
  // The console is always a browser client: cookies with CSRF, never tokens in a body (docs/CONSOLE.md).
  const headers: Record<string, string> = {
    accept: 'application/json, application/problem+json',
    'x-auth-mode': 'browser',
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  // Read just before each call: the CSRF cookie changes on every sign-in and refresh.
  const csrf = method === 'GET' ? null : csrfToken();
  if (csrf !== null) headers['x-csrf-token'] = csrf;
  return headers;
}

async function send<T>(method: string, path: string, body: unknown): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: headersFor(method, body),
      credentials: 'same-origin',
      cache: 'no-store',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    return { ok: false, problem: { status: 0, code: 'NETWORK', detail: '', errors: [], retryAfter: null } };
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (res.ok) return { ok: true, status: res.status, data: parsed as T };
  return { ok: false, problem: asProblem(res.status, parsed, res.headers.get('retry-after')) };
}

/** One silent refresh at a time (the refresh cookie rotates): every waiting call shares it. */
function refreshSession(): Promise<boolean> {
  pendingRefresh ??= send('POST', '/api/auth/refresh', undefined)
    .then((r) => r.ok)
    .finally(() => {
      pendingRefresh = null;
    });
  return pendingRefresh;
}

/** One in-place sign-in at a time: calls that fail together wait for the same dialog. */
function promptSignIn(reason: 'expired' | 'reauth'): Promise<boolean> {
  const prompt = signInPrompt;
  if (!prompt) return Promise.resolve(false);
  pendingPrompt ??= prompt(reason).finally(() => {
    pendingPrompt = null;
  });
  return pendingPrompt;
}

/**
 * One call to the API. When the session behind it is gone (401 INVALID_TOKEN / UNAUTHORIZED) it
 * first tries the silent refresh (`POST /api/auth/refresh`, the httpOnly refresh cookie) and
 * repeats the call; when that fails too, or the server asks for a recent sign-in
 * (REAUTH_REQUIRED), it asks the user to sign in again in place (`setSignInPrompt`) and repeats
 * the call once after. The page underneath stays mounted meanwhile, so a half-filled form keeps
 * what was typed. A user who gives up gets the original problem.
 */
export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  options: ApiOptions = {},
): Promise<ApiResult<T>> {
  let res = await send<T>(method, path, body);
  if (res.ok && method === 'GET' && path === '/api/auth/me') rememberUser(res.data);
  if (res.ok || isSignInCall(path)) return res;
  if (sessionLost(res) && (await refreshSession())) res = await send<T>(method, path, body);
  const reauth = !res.ok && res.problem.status === 401 && res.problem.code === 'REAUTH_REQUIRED';
  if (!reauth && !sessionLost(res)) return res;
  if (options.signIn === false) return res;
  if (!(await promptSignIn(reauth ? 'reauth' : 'expired'))) return res;
  return send<T>(method, path, body);
}

function rememberUser(data: unknown): void {
  const user = (data as { user?: { id?: unknown; email?: unknown } } | null)?.user;
  if (user && typeof user.id === 'string' && typeof user.email === 'string')
    knownUser = { id: user.id, email: user.email };
}

/** The field a problem names (`/newPassword` → `newPassword`), if any of `fields`. */
export function fieldOf(problem: Problem, fields: readonly string[]): string | null {
  for (const e of problem.errors) {
    const name = e.path.replace(/^\//, '').split('/')[0] ?? '';
    if (fields.includes(name)) return name;
  }
  return null;
}
