import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, fieldOf, type Problem } from '../api';
import { Field } from '../components/Field';
import { Submit, useSubmit } from '../components/forms';
import { Layout } from '../components/Layout';
import { Notice } from '../components/Notice';
import { useI18n } from '../i18n';
import { problemMessage } from '../problems';

/**
 * /account/sign-in: email and password. The second-factor steps, passkeys and the console's own
 * cookie sign-in land with the account API (docs/CONSOLE.md, "What comes next").
 */
export function SignIn() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ email?: string | null; password?: string | null }>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const { busy, onSubmit } = useSubmit(async () => {
    setProblem(null);
    const local = {
      email: email.trim() === '' ? t('field.required') : null,
      password: password === '' ? t('field.required') : null,
    };
    setErrors(local);
    if (local.email || local.password) return;
    const res = await api('POST', '/api/auth/login', { email: email.trim(), password });
    if (res.ok) {
      await navigate('/account');
      return;
    }
    const field = fieldOf(res.problem, ['email', 'password']);
    if (field) setErrors({ [field]: res.problem.errors[0]?.message ?? problemMessage(t, res.problem) });
    else setProblem(res.problem);
  });
  return (
    <Layout title={t('signin.title')}>
      <form onSubmit={onSubmit} noValidate>
        <p>{t('signin.intro')}</p>
        {problem ? <Notice kind="error">{problemMessage(t, problem)}</Notice> : null}
        <Field
          id="email"
          label={t('field.email')}
          type="email"
          autoComplete="username"
          required
          value={email}
          onValue={setEmail}
          error={errors.email}
        />
        <Field
          id="password"
          label={t('field.password')}
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onValue={setPassword}
          error={errors.password}
        />
        <Submit busy={busy}>{t('button.sign_in')}</Submit>
      </form>
      <p className="links">
        <Link to="/forgot-password">{t('link.forgot')}</Link>
      </p>
    </Layout>
  );
}
