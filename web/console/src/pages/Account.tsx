import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { api, type Problem } from '../api';
import { Layout } from '../components/Layout';
import { Notice } from '../components/Notice';
import { useI18n } from '../i18n';
import { problemMessage } from '../problems';

interface Me {
  user: { email: string; name: string; roles: string[]; emailVerified: boolean };
}

/** /account: who is signed in (the full "My account" screens come next, docs/CONSOLE.md). */
export function Account() {
  const { t } = useI18n();
  const [me, setMe] = useState<Me | null | 'signed-out'>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  useEffect(() => {
    let live = true;
    void api<Me>('GET', '/api/auth/me').then((res) => {
      if (!live) return;
      if (res.ok) setMe(res.data);
      else if (res.problem.status === 401) setMe('signed-out');
      else setProblem(res.problem);
    });
    return () => {
      live = false;
    };
  }, []);
  const signOut = async () => {
    const res = await api('POST', '/api/auth/logout');
    if (res.ok || res.problem.status === 401) setMe('signed-out');
    else setProblem(res.problem);
  };
  let body;
  if (problem) body = <Notice kind="error">{problemMessage(t, problem)}</Notice>;
  else if (me === null) body = <p role="status">{t('account.loading')}</p>;
  else if (me === 'signed-out')
    body = (
      <>
        <p>{t('account.signed_out')}</p>
        <p>
          <Link to="/account/sign-in">{t('link.sign_in')}</Link>
        </p>
      </>
    );
  else
    body = (
      <>
        <dl className="facts">
          <dt>{t('field.name')}</dt>
          <dd>{me.user.name}</dd>
          <dt>{t('field.email')}</dt>
          <dd>
            {me.user.email} ({me.user.emailVerified ? t('account.email_verified') : t('account.email_unverified')})
          </dd>
          <dt>{t('account.roles')}</dt>
          <dd>{me.user.roles.join(', ')}</dd>
        </dl>
        <button type="button" onClick={() => void signOut()}>
          {t('button.sign_out')}
        </button>
      </>
    );
  return <Layout title={t('account.title')}>{body}</Layout>;
}
