/**
 * The one-time token of a mailed link (`?token=`). Read once, before anything renders or loads,
 * and removed from the address bar and from history at once (`history.replaceState` replaces the
 * entry, it does not add one): the token then lives only in this module's memory, never in the
 * URL a screenshot, a shoulder, a browser sync or a later Referer could show.
 */
let captured: { path: string; token: string } | null = null;

/** Called once at start (main.tsx). Keeps every other query parameter and the hash. */
export function captureMailedToken(): void {
  const url = new URL(window.location.href);
  const code = url.searchParams.get('token') ?? '';
  if (!url.searchParams.has('token')) return;
  url.searchParams.delete('token');
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  if (code.length > 0) captured = { path: url.pathname.replace(/\/+$/, ''), token: code };
}

/** The token captured for this page's path, or null (no link, or a link of another page). */
export function mailedToken(path: string): string | null {
  return captured !== null && captured.path === path ? captured.token : null;
}

/** Forget the token once it has been used (a used link never works twice anyway). */
export function forgetMailedToken(): void {
  captured = null;
}
