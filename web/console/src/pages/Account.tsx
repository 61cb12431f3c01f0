import { useCallback, useEffect, useState } from 'react';
import { Link, Navigate, Outlet, useLocation } from 'react-router';
import { api, type Problem } from '../api';
import type { AccountContext, Me } from '../account/context';
import { accountProblem } from '../account/problems';
import { Layout } from '../components/Layout';
import { Notice } from '../components/Notice';
import { useI18n } from '../i18n';

type State =
  | { kind: 'loading' }
  | { kind: 'in'; me: Me; restricted: boolean }
  | { kind: 'out' }
  | { kind: 'bye' }
  | { kind: 'problem'; problem: Problem };

const NO_PROFILE: Me = { id: '', email: '', name: '', roles: [], emailVerified: false, emailVerifiedAt: null };

/**
 * /account and every screen under it: asks who is signed in (GET /api/auth/me, with the silent
 * refresh when the access cookie expired) and hands the screens that user. A visitor who is not
 * signed in goes to /account/sign-in?next=<this screen> and comes back here after signing in.
 */
export function Account() {
  const { t } = useI18n();
  const location = useLocation();
  const [state, setState] = useState<State>({ kind: 'loading' });

  const reload = useCallback(async () => {
    const res = await api<{ user: Me }>('GET', '/api/auth/me', undefined, { signIn: false });
    if (res.ok) setState({ kind: 'in', me: res.data.user, restricted: false });
    else if (res.problem.code === 'MFA_ENROLLMENT_REQUIRED') setState({ kind: 'in', me: NO_PROFILE, restricted: true });
    else if (res.problem.status === 401) setState((s) => (s.kind === 'bye' ? s : { kind: 'out' }));
    else setState({ kind: 'problem', problem: res.problem });
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  const signOut = useCallback(async () => {
    const res = await api('POST', '/api/auth/logout');
    if (res.ok || res.problem.status === 401) setState({ kind: 'bye' });
    else setState({ kind: 'problem', problem: res.problem });
  }, []);

  if (state.kind === 'out') {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/account/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  if (state.kind === 'in') {
    const context: AccountContext = { me: state.me, restricted: state.restricted, reload, signOut };
    return <Outlet context={context} />;
  }
  let body;
  if (state.kind === 'problem') body = <Notice kind="error">{accountProblem(t, state.problem)}</Notice>;
  else if (state.kind === 'loading') body = <p role="status">{t('account.loading')}</p>;
  else
    body = (
      <>
        <Notice kind="ok">{t('account.bye')}</Notice>
        <p>{t('account.signed_out')}</p>
        <p>
          <Link to="/account/sign-in">{t('link.sign_in')}</Link>
        </p>
      </>
    );
  return <Layout title={t('account.title')}>{body}</Layout>;
}
