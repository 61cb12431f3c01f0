/**
 * A mailed link whose whole job is one POST with its token: verify-email and unlock-account. The
 * page waits for a press of the button (a mail scanner that opens links must not use them up).
 */
import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { api, type Problem } from '../api';
import { isLinkProblem, LinkProblem, Submit, useSubmit } from '../components/forms';
import { Layout } from '../components/Layout';
import { Notice } from '../components/Notice';
import { useI18n } from '../i18n';
import { forgetMailedToken, mailedToken } from '../mailed-token';
import { problemMessage } from '../problems';

export function TokenAction(props: {
  path: string;
  api: string;
  title: string;
  intro: string;
  button: string;
  done: string;
  after?: ReactNode;
}) {
  const { t } = useI18n();
  const [token] = useState(() => mailedToken(props.path));
  const [problem, setProblem] = useState<Problem | null>(null);
  const [finished, setFinished] = useState(false);
  const { busy, onSubmit } = useSubmit(async () => {
    if (token === null) return;
    setProblem(null);
    const res = await api('POST', props.api, { token });
    if (res.ok) {
      forgetMailedToken();
      setFinished(true);
    } else setProblem(res.problem);
  });
  let body: ReactNode;
  if (token === null) body = <LinkProblem problem="missing" reset={false} />;
  else if (finished)
    body = (
      <>
        <Notice kind="ok">{props.done}</Notice>
        <p className="links">
          <Link to="/account/sign-in">{t('link.sign_in')}</Link>
          {props.after}
        </p>
      </>
    );
  else if (problem && isLinkProblem(problem)) body = <LinkProblem problem={problem} reset={false} />;
  else
    body = (
      <form onSubmit={onSubmit} noValidate>
        <p>{props.intro}</p>
        {problem ? <Notice kind="error">{problemMessage(t, problem)}</Notice> : null}
        <Submit busy={busy}>{props.button}</Submit>
      </form>
    );
  return <Layout title={props.title}>{body}</Layout>;
}
