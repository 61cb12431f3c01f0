/** Form pieces the account pages share: a submit button that shows work, and the two small forms. */
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { api, fieldOf, type Problem } from '../api';
import { useI18n } from '../i18n';
import { problemMessage } from '../problems';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../strength';
import { Field } from './Field';
import { Notice } from './Notice';
import { PasswordField } from './PasswordField';

export function Submit({ busy, children }: { busy: boolean; children: ReactNode }) {
  const { t } = useI18n();
  return (
    <button type="submit" className="primary" aria-disabled={busy || undefined} data-busy={busy || undefined}>
      {children}
      {busy ? <span className="busy"> {t('button.working')}</span> : null}
    </button>
  );
}

/** A form that submits once at a time; `onSubmit` runs only when the previous run ended. */
export function useSubmit(run: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    void run().finally(() => setBusy(false));
  };
  return { busy, onSubmit };
}

/** Is this answer about the link itself (used, expired, unknown)? Then the form cannot help. */
export function isLinkProblem(p: Problem): boolean {
  return p.code === 'INVALID_TOKEN' || p.code.startsWith('INVITATION_');
}

/** Client-side length check (the server's rule): a message, or null when fine. */
export function passwordLengthProblem(
  t: (k: string, o?: Record<string, unknown>) => string,
  password: string,
): string | null {
  const n = [...password].length;
  if (n === 0) return t('field.required');
  if (n < PASSWORD_MIN_LENGTH) return t('strength.too_short', { count: n, min: PASSWORD_MIN_LENGTH });
  if (n > PASSWORD_MAX_LENGTH) return t('strength.too_long', { max: PASSWORD_MAX_LENGTH });
  return null;
}

export function weakMessage(t: (k: string) => string, p: Problem): string {
  return p.detail !== '' ? `${t('error.WEAK_PASSWORD')} (${p.detail})` : t('error.WEAK_PASSWORD');
}

/**
 * "New password" + "Set password" against POST /api/auth/password/reset with a reset token (the
 * mailed one, or the one "it was not me" answers).
 */
export function SetPasswordForm({ token, done, onDone }: { token: string; done: string; onDone?: () => void }) {
  const { t } = useI18n();
  const [password, setPassword] = useState('');
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [finished, setFinished] = useState(false);
  const { busy, onSubmit } = useSubmit(async () => {
    setProblem(null);
    const local = passwordLengthProblem(t, password);
    setFieldError(local);
    if (local) return;
    const res = await api<{ status: 'reset' }>('POST', '/api/auth/password/reset', { token, newPassword: password });
    if (res.ok) {
      setFinished(true);
      onDone?.();
      return;
    }
    const p = res.problem;
    if (p.code === 'WEAK_PASSWORD') setFieldError(weakMessage(t, p));
    else if (fieldOf(p, ['newPassword'])) setFieldError(p.errors[0]?.message ?? problemMessage(t, p));
    else setProblem(p);
  });

  if (finished) {
    return (
      <>
        <Notice kind="ok">{done}</Notice>
        <p>
          <Link to="/account/sign-in">{t('link.sign_in')}</Link>
        </p>
      </>
    );
  }
  if (problem && isLinkProblem(problem)) return <LinkProblem problem={problem} />;
  return (
    <form onSubmit={onSubmit} noValidate>
      {problem ? <Notice kind="error">{problemMessage(t, problem)}</Notice> : null}
      <PasswordField
        id="newPassword"
        label={t('field.new_password')}
        value={password}
        onValue={setPassword}
        error={fieldError}
      />
      <Submit busy={busy}>{t('button.set_password')}</Submit>
    </form>
  );
}

/** A link that cannot work (used, expired, unknown): what happened, and where to go next. */
export function LinkProblem({ problem, reset = true }: { problem: Problem | 'missing'; reset?: boolean }) {
  const { t } = useI18n();
  return (
    <>
      <Notice kind="error">{problem === 'missing' ? t('error.LINK_MISSING') : problemMessage(t, problem)}</Notice>
      <p className="links">
        {reset ? <Link to="/forgot-password">{t('link.new_reset')}</Link> : null}
        <Link to="/account/sign-in">{t('link.sign_in')}</Link>
      </p>
    </>
  );
}

/** "Email" + a button, posting to a quiet endpoint that answers 202 whatever the email. */
export function EmailRequestForm({ path, button, done }: { path: string; button: string; done: string }) {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [sent, setSent] = useState(false);
  const { busy, onSubmit } = useSubmit(async () => {
    setProblem(null);
    setFieldError(email.trim() === '' ? t('field.required') : null);
    if (email.trim() === '') return;
    const res = await api('POST', path, { email: email.trim() });
    if (res.ok) setSent(true);
    else if (fieldOf(res.problem, ['email']))
      setFieldError(res.problem.errors[0]?.message ?? problemMessage(t, res.problem));
    else setProblem(res.problem);
  });
  if (sent) return <Notice kind="ok">{done}</Notice>;
  return (
    <form onSubmit={onSubmit} noValidate>
      {problem ? <Notice kind="error">{problemMessage(t, problem)}</Notice> : null}
      <Field
        id="email"
        label={t('field.email')}
        type="email"
        autoComplete="email"
        required
        value={email}
        onValue={setEmail}
        error={fieldError}
      />
      <Submit busy={busy}>{button}</Submit>
    </form>
  );
}
