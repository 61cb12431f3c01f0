import { useState } from 'react';
import { api, type Problem } from '../api';
import { isLinkProblem, LinkProblem, SetPasswordForm, Submit, useSubmit } from '../components/forms';
import { Layout } from '../components/Layout';
import { Notice } from '../components/Notice';
import { useI18n } from '../i18n';
import { forgetMailedToken, mailedToken } from '../mailed-token';
import { problemMessage } from '../problems';

interface Secured {
  sessionRevoked: boolean;
  resetToken: string;
}

/**
 * /was-this-you?token= (mail "It was not me: secure my account"): ends the session the alert was
 * about, then sets a new password with the reset token the answer carries (kept in memory only).
 */
export function WasThisYou() {
  const { t } = useI18n();
  const [token] = useState(() => mailedToken('/was-this-you'));
  const [problem, setProblem] = useState<Problem | null>(null);
  const [secured, setSecured] = useState<Secured | null>(null);
  const { busy, onSubmit } = useSubmit(async () => {
    if (token === null) return;
    setProblem(null);
    const res = await api<Secured>('POST', '/api/auth/login/not-me', { token });
    if (res.ok) {
      forgetMailedToken();
      setSecured(res.data);
    } else setProblem(res.problem);
  });
  let body;
  if (token === null) body = <LinkProblem problem="missing" />;
  else if (secured !== null)
    body = (
      <>
        <Notice kind="info">{secured.sessionRevoked ? t('notme.secured') : t('notme.secured_no_session')}</Notice>
        <SetPasswordForm token={secured.resetToken} done={t('notme.done')} />
      </>
    );
  else if (problem && isLinkProblem(problem)) body = <LinkProblem problem={problem} />;
  else
    body = (
      <form onSubmit={onSubmit} noValidate>
        <p>{t('notme.intro')}</p>
        {problem ? <Notice kind="error">{problemMessage(t, problem)}</Notice> : null}
        <Submit busy={busy}>{t('button.not_me')}</Submit>
      </form>
    );
  return <Layout title={t('notme.title')}>{body}</Layout>;
}
