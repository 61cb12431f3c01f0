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

function csrfToken(): string | null {
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

export async function api<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> {
  // The console is always a browser client: cookies with CSRF, never tokens in a body (docs/CONSOLE.md).
  const headers: Record<string, string> = {
    accept: 'application/json, application/problem+json',
    'x-auth-mode': 'browser',
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const csrf = method === 'GET' ? null : csrfToken();
  if (csrf !== null) headers['x-csrf-token'] = csrf;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
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

/** The field a problem names (`/newPassword` → `newPassword`), if any of `fields`. */
export function fieldOf(problem: Problem, fields: readonly string[]): string | null {
  for (const e of problem.errors) {
    const name = e.path.replace(/^\//, '').split('/')[0] ?? '';
    if (fields.includes(name)) return name;
  }
  return null;
}
