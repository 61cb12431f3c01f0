import { useState } from 'react';
import { api, type Problem } from '../api';
import { AccountLayout } from '../account/AccountLayout';
import { useAccount } from '../account/context';
import { accountProblem, problemField } from '../account/problems';
import { Field } from '../components/Field';
import { passwordLengthProblem, Submit, useSubmit, weakMessage } from '../components/forms';
import { Notice } from '../components/Notice';
import { PasswordField } from '../components/PasswordField';
import { useI18n } from '../i18n';

/**
 * /account/password: current and new password (with the strength meter), POST
 * /api/auth/password/change. It needs a recent sign-in: on REAUTH_REQUIRED the in-place sign-in
 * (api.ts) asks and the change goes on, with what was typed. Problems show under their field.
 */
export function AccountPassword() {
  const { t } = useI18n();
  const { me } = useAccount();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);

  const { busy, onSubmit } = useSubmit(async () => {
    setProblem(null);
    setDone(false);
    const local = {
      currentPassword: current === '' ? t('field.required') : null,
      newPassword: passwordLengthProblem(t, next),
    };
    setErrors(local);
    if (local.currentPassword || local.newPassword) return;
    const res = await api<{ status: string }>('POST', '/api/auth/password/change', {
      currentPassword: current,
      newPassword: next,
    });
    if (res.ok) {
      setCurrent('');
      setNext('');
      setDone(true);
      return;
    }
    const p = res.problem;
    const field = problemField(p, { INVALID_CURRENT_PASSWORD: 'currentPassword', WEAK_PASSWORD: 'newPassword' }, [
      'currentPassword',
      'newPassword',
    ]);
    if (field === 'newPassword')
      setErrors({
        newPassword: p.code === 'WEAK_PASSWORD' ? weakMessage(t, p) : (p.errors[0]?.message ?? accountProblem(t, p)),
      });
    else if (field === 'currentPassword')
      setErrors({
        currentPassword:
          p.code === 'INVALID_CURRENT_PASSWORD' ? accountProblem(t, p) : (p.errors[0]?.message ?? accountProblem(t, p)),
      });
    else setProblem(p);
  });

  return (
    <AccountLayout title={t('account.password.title')}>
      <p>{t('account.password.intro')}</p>
      {done ? <Notice kind="ok">{t('account.password.done')}</Notice> : null}
      <form onSubmit={onSubmit} noValidate>
        {problem ? <Notice kind="error">{accountProblem(t, problem)}</Notice> : null}
        <Field
          id="currentPassword"
          label={t('account.password.current')}
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onValue={setCurrent}
          error={errors['currentPassword']}
        />
        <PasswordField
          id="newPassword"
          label={t('field.new_password')}
          value={next}
          onValue={setNext}
          error={errors['newPassword'] ?? null}
          userInputs={[me.email, me.name]}
        />
        <Submit busy={busy}>{t('account.password.submit')}</Submit>
      </form>
    </AccountLayout>
  );
}
