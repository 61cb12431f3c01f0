/**
 * Where to go after signing in: the console page the user came from (`?next=`), never anything
 * else. Only a same-origin path under /account or /admin qualifies; a full URL, a protocol-relative
 * `//host`, a backslash trick (`/\host`), control characters or the sign-in page itself all fall
 * back to /account, so a crafted sign-in link cannot send a fresh session to another site.
 */
export const AFTER_SIGN_IN = '/account';

const PATH_CHARS = /^[\w.~/-]+$/;

function isConsolePath(path: string): boolean {
  return (
    (path === '/account' || path.startsWith('/account/') || path === '/admin' || path.startsWith('/admin/')) &&
    PATH_CHARS.test(path) &&
    !path.startsWith('/account/sign-in')
  );
}

export function safeNext(raw: string | null): string {
  if (raw === null || raw === '') return AFTER_SIGN_IN;
  // Only a plain absolute path: no scheme, no authority, no backslash, no control or space characters.
  if (!raw.startsWith('/') || raw.startsWith('//') || /[\\\s\u0000-\u001f\u007f]/.test(raw)) return AFTER_SIGN_IN;
  let url: URL;
  try {
    url = new URL(raw, window.location.origin);
  } catch {
    return AFTER_SIGN_IN;
  }
  if (url.origin !== window.location.origin) return AFTER_SIGN_IN;
  if (!isConsolePath(url.pathname)) return AFTER_SIGN_IN;
  return `${url.pathname}${url.search}${url.hash}`;
}
