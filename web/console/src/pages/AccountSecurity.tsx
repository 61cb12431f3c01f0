import { useCallback, useEffect, useState } from 'react';
import { api, type Problem } from '../api';
import { AccountLayout } from '../account/AccountLayout';
import { BackupCodes } from '../account/BackupCodes';
import { useAccount } from '../account/context';
import { FactorField, proofOf, type ProofKind } from '../account/FactorField';
import { accountProblem, problemField } from '../account/problems';
import { Field } from '../components/Field';
import { Submit, useSubmit } from '../components/forms';
import { Notice } from '../components/Notice';
import { useI18n } from '../i18n';
import type { MfaStatus } from './AccountOverview';

interface Enrollment {
  secret: string;
  otpauthUri: string;
  qrCode: string;
}

type Action = 'regen' | 'disable' | null;

/** Group the base32 secret in fours for typing by hand; the copy keeps no spaces. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * /account/security: the authenticator app (TOTP). Set up with the password
 * (`POST /api/auth/mfa/totp/enroll`: the QR as a data: URL, allowed by `img-src data:`, and the
 * secret as text), confirmed with a first code ("Authentication code", "Verify"), which answers
 * the backup codes, shown once with a download. Then: new backup codes, or turn it all off
 * (recent sign-in: the in-place sign-in asks when the server wants it).
 */
export function AccountSecurity() {
  const { t } = useI18n();
  const { me } = useAccount();
  const [status, setStatus] = useState<MfaStatus | null>(null);
  const [enrollment, setEnrollment] = useState<Enrollment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [action, setAction] = useState<Action>(null);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [kind, setKind] = useState<ProofKind>('code');
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const load = useCallback(async () => {
    const res = await api<MfaStatus>('GET', '/api/auth/mfa');
    if (res.ok) setStatus(res.data);
    else setProblem(res.problem);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const fail = (p: Problem) => {
    const field = problemField(p, { INVALID_CREDENTIALS: 'password', MFA_CODE_INVALID: kind }, [
      'password',
      'code',
      'backupCode',
    ]);
    if (field) {
      setErrors({ [field]: accountProblem(t, p) });
      setProblem(null);
    } else {
      setErrors({});
      setProblem(p);
    }
  };

  const reset = () => {
    setPassword('');
    setCode('');
    setErrors({});
    setProblem(null);
  };

  const start = useSubmit(async () => {
    setMessage(null);
    setProblem(null);
    if (password === '') return void setErrors({ password: t('field.required') });
    const res = await api<Enrollment>('POST', '/api/auth/mfa/totp/enroll', { password });
    if (!res.ok) return fail(res.problem);
    reset();
    setEnrollment(res.data);
  });

  const confirm = useSubmit(async () => {
    setProblem(null);
    const value = code.replace(/\s+/g, '');
    if (value === '') return void setErrors({ code: t('field.required') });
    const res = await api<{ backupCodes: string[] }>('POST', '/api/auth/mfa/totp/confirm', { code: value });
    if (!res.ok) {
      if (res.problem.code === 'MFA_ENROLLMENT_NOT_STARTED') setEnrollment(null);
      return fail(res.problem);
    }
    reset();
    setEnrollment(null);
    setCodes(res.data.backupCodes);
    setMessage(t('account.totp.enabled'));
    await load();
  });

  const act = useSubmit(async () => {
    setProblem(null);
    setMessage(null);
    const local = {
      password: password === '' ? t('field.required') : null,
      [kind]: code.trim() === '' ? t('field.required') : null,
    };
    setErrors(local);
    if (local.password || local[kind]) return;
    const body = { password, ...proofOf(kind, code) };
    if (action === 'regen') {
      const res = await api<{ backupCodes: string[] }>('POST', '/api/auth/mfa/backup-codes', body);
      if (!res.ok) return fail(res.problem);
      reset();
      setAction(null);
      setCodes(res.data.backupCodes);
    } else {
      const res = await api('POST', '/api/auth/mfa/disable', body);
      if (!res.ok) return fail(res.problem);
      reset();
      setAction(null);
      setMessage(t('account.totp.disabled'));
    }
    await load();
  });

  const notice = problem ? <Notice kind="error">{accountProblem(t, problem)}</Notice> : null;
  let body;
  if (codes) {
    body = <BackupCodes codes={codes} email={me.email} onDone={() => setCodes(null)} />;
  } else if (enrollment) {
    body = (
      <section aria-labelledby="enroll-title">
        <h2 id="enroll-title">{t('account.totp.start')}</h2>
        <p>{t('account.totp.scan')}</p>
        <img className="qr" src={enrollment.qrCode} alt={t('account.totp.qr_alt')} width={200} height={200} />
        <dl className="facts">
          <dt id="totp-secret-label">{t('account.totp.secret')}</dt>
          <dd>
            <code id="totp-secret" aria-labelledby="totp-secret-label" data-secret={enrollment.secret}>
              {grouped(enrollment.secret)}
            </code>
          </dd>
        </dl>
        <form onSubmit={confirm.onSubmit} noValidate>
          <p>{t('account.totp.confirm_intro')}</p>
          {notice}
          <Field
            id="code"
            label={t('field.auth_code')}
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            value={code}
            onValue={setCode}
            error={errors['code']}
          />
          <Submit busy={confirm.busy}>{t('button.verify')}</Submit>
        </form>
      </section>
    );
  } else if (status === null) {
    body = problem ? notice : <p role="status">{t('account.loading')}</p>;
  } else if (!status.totp.enabled) {
    body = (
      <form onSubmit={start.onSubmit} noValidate>
        <p>{t('account.totp.off')}</p>
        <p>{t('account.totp.start_intro')}</p>
        {notice}
        <Field
          id="password"
          label={t('field.password')}
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onValue={setPassword}
          error={errors['password']}
        />
        <Submit busy={start.busy}>{t('account.totp.start')}</Submit>
      </form>
    );
  } else {
    body = (
      <>
        <p>{t('account.totp.on')}</p>
        <p>{t('account.totp.backup_left', status.backupCodes)}</p>
        {action === null ? (
          <p className="links">
            <button type="button" onClick={() => (reset(), setAction('regen'))}>
              {t('account.totp.regen_submit')}
            </button>
            <button type="button" onClick={() => (reset(), setAction('disable'))}>
              {t('account.totp.disable_submit')}
            </button>
          </p>
        ) : (
          <section aria-labelledby="action-title">
            <h2 id="action-title">
              {t(action === 'regen' ? 'account.totp.regen_title' : 'account.totp.disable_title')}
            </h2>
            <form onSubmit={act.onSubmit} noValidate>
              <p>{t(action === 'regen' ? 'account.totp.regen_intro' : 'account.totp.disable_intro')}</p>
              {notice}
              <Field
                id="password"
                label={t('field.password')}
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onValue={setPassword}
                error={errors['password']}
              />
              <FactorField kind={kind} onKind={setKind} value={code} onValue={setCode} error={errors[kind]} />
              <p className="links">
                <Submit busy={act.busy}>
                  {t(action === 'regen' ? 'account.totp.regen_submit' : 'account.totp.disable_submit')}
                </Submit>
                <button type="button" onClick={() => (reset(), setAction(null))}>
                  {t('account.passkeys.cancel')}
                </button>
              </p>
            </form>
          </section>
        )}
      </>
    );
  }

  return (
    <AccountLayout title={t('account.totp.title')}>
      {message ? <Notice kind="ok">{message}</Notice> : null}
      {body}
    </AccountLayout>
  );
}
