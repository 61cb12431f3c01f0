/**
 * ra-core's auth provider on the console's cookie session: who is signed in comes from
 * `GET /api/auth/me`; signing in happens on /account/sign-in (it comes back with `?next=`), and
 * what a user may open comes from the permissions the API answers (src/users/roles.ts). The API
 * checks every call again: hiding a screen is a convenience, never the control.
 */
import type { AuthProvider } from 'ra-core';
import { api } from '../api';

export interface Me {
  id: string;
  email: string;
  name: string;
  roles: string[];
  permissions: string[];
}

/** Permissions that open the admin at all (the `user` role's own-content ones do not). */
export const ADMIN_PERMISSIONS = [
  'content:read_any',
  'content:write_any',
  'user:manage',
  'audit:read',
  'security:manage',
] as const;

export function hasAdminAccess(me: Pick<Me, 'permissions'>): boolean {
  return me.permissions.some((p) => (ADMIN_PERMISSIONS as readonly string[]).includes(p));
}

/** A resource opens for a user holding any of its permissions (resources.tsx). */
export function mayOpen(me: Pick<Me, 'permissions'>, anyOf: readonly string[]): boolean {
  return anyOf.some((p) => me.permissions.includes(p));
}

/** Sign-in, then back to where the user was (next-path.ts accepts /admin paths). */
export function signInUrl(): string {
  const here = `${window.location.pathname}${window.location.search}`;
  return `/account/sign-in?next=${encodeURIComponent(here)}`;
}

/** Set once the page is on its way to the sign-in page: ra's logout after a failed check must not change where. */
let leaving = false;

/** Off to the sign-in page (and back here after); what ra-core is told so it shows nothing meanwhile. */
function goSignIn(): Error {
  leaving = true;
  window.location.assign(signInUrl());
  return Object.assign(new Error('signed out'), { redirectTo: false });
}

export type MeResult = { kind: 'ok'; me: Me } | { kind: 'signed-out' } | { kind: 'restricted'; code: string };

/** Who is signed in: a user, nobody (401), or a session limited to one task (403). */
export async function fetchMe(): Promise<MeResult> {
  // Not signed in at all is not "the session expired mid-form": no in-place sign-in dialog here,
  // only the silent refresh; the caller sends the user to the sign-in page.
  const res = await api<{ user: Me }>('GET', '/api/auth/me', undefined, { signIn: false });
  if (res.ok) return { kind: 'ok', me: res.data.user };
  if (res.problem.status === 401) return { kind: 'signed-out' };
  return { kind: 'restricted', code: res.problem.code };
}

/** The auth provider for one signed-in user (AdminApp checked `me` before rendering ra-core). */
export function authProviderFor(me: Me, resourcePermissions: (resource: string) => readonly string[]): AuthProvider {
  return {
    // Signing in is the console's sign-in page, never a form inside the admin.
    login: async () => {
      throw goSignIn();
    },
    logout: async () => {
      await api('POST', '/api/auth/logout');
      if (!leaving) window.location.assign('/account/sign-in');
      return false;
    },
    checkAuth: async () => {
      const result = await fetchMe();
      if (result.kind !== 'ok') throw goSignIn();
    },
    checkError: async (error: { status?: number; body?: { code?: string } }) => {
      // 401 after api.ts's silent refresh and its in-place sign-in dialog gave up: the sign-in page.
      // REAUTH_REQUIRED is not "signed out": the session is fine, only this action wants a fresh
      // sign-in, so it is shown where it happened (with the form kept) instead of leaving the screen.
      if (error?.status === 401 && error.body?.code !== 'REAUTH_REQUIRED') throw goSignIn();
      // 403 and the rest are shown where they happened; they do not end the session.
    },
    getIdentity: async () => ({ id: me.id, fullName: me.name || me.email }),
    getPermissions: async () => me.permissions,
    canAccess: async ({ resource }) => mayOpen(me, resourcePermissions(resource)),
  };
}
