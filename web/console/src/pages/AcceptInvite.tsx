import { useState } from 'react';
import { Link } from 'react-router';
import { api, fieldOf, type Problem } from '../api';
import { Field } from '../components/Field';
import { isLinkProblem, LinkProblem, passwordLengthProblem, Submit, useSubmit, weakMessage } from '../components/forms';
import { Layout } from '../components/Layout';
import { Notice } from '../components/Notice';
import { PasswordField } from '../components/PasswordField';
import { useI18n } from '../i18n';
import { forgetMailedToken, mailedToken } from '../mailed-token';
import { problemMessage } from '../problems';

/** /accept-invite?token= (mail "Accept the invitation"): name and password create the account. */
export function AcceptInvite() {
  const { t } = useI18n();
  const [token] = useState(() => mailedToken('/accept-invite'));
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ name?: string | null; password?: string | null }>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [email, setEmail] = useState<string | null>(null);
  const { busy, onSubmit } = useSubmit(async () => {
    if (token === null) return;
    setProblem(null);
    const local = {
      name: name.trim() === '' ? t('field.required') : null,
      password: passwordLengthProblem(t, password),
    };
    setErrors(local);
    if (local.name || local.password) return;
    const res = await api<{ user: { email: string } }>('POST', '/api/auth/invitations/accept', {
      token,
      name: name.trim(),
      password,
    });
    if (res.ok) {
      forgetMailedToken();
      setEmail(res.data.user.email);
      return;
    }
    const p = res.problem;
    const field = fieldOf(p, ['name', 'password']);
    if (p.code === 'WEAK_PASSWORD') setErrors({ password: weakMessage(t, p) });
    else if (field) setErrors({ [field]: p.errors[0]?.message ?? problemMessage(t, p) });
    else setProblem(p);
  });

  let body;
  if (token === null) body = <LinkProblem problem="missing" reset={false} />;
  else if (email !== null)
    body = (
      <>
        <Notice kind="ok">
          {t('invite.done')} <strong>{email}</strong>
        </Notice>
        <p>
          <Link to="/account/sign-in">{t('link.sign_in')}</Link>
        </p>
      </>
    );
  else if (problem && isLinkProblem(problem)) body = <LinkProblem problem={problem} reset={false} />;
  else
    body = (
      <form onSubmit={onSubmit} noValidate>
        <p>{t('invite.intro')}</p>
        {problem ? <Notice kind="error">{problemMessage(t, problem)}</Notice> : null}
        <Field
          id="name"
          label={t('field.name')}
          autoComplete="name"
          required
          maxLength={100}
          value={name}
          onValue={setName}
          error={errors.name}
        />
        <PasswordField
          id="password"
          label={t('field.new_password')}
          value={password}
          onValue={setPassword}
          error={errors.password ?? null}
          userInputs={name.trim() === '' ? [] : [name]}
        />
        <Submit busy={busy}>{t('button.set_password')}</Submit>
      </form>
    );
  return <Layout title={t('invite.title')}>{body}</Layout>;
}
