/**
 * "Sign in again", in place: the prompt api.ts shows when a call finds the session gone (after
 * the silent refresh failed) or the server wants a recent sign-in (REAUTH_REQUIRED). A modal
 * <dialog> over the page, so the page and any half-filled form stay mounted with what was typed;
 * once signed in (password, then the account's second factor), api.ts repeats the call. Another
 * account signing in here does not get the form: the page reloads as that account instead.
 */
import { startAuthentication } from '@simplewebauthn/browser';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api, setSignInPrompt, signedInUser, type Problem } from '../api';
import { useI18n } from '../i18n';
import { problemMessage } from '../problems';
import { Field } from './Field';
import { Notice } from './Notice';
import { Submit } from './forms';

interface SignInAnswer {
  mfaRequired?: boolean;
  mfaToken?: string;
  methods?: string[];
  passwordChangeRequired?: boolean;
  mfaEnrollmentRequired?: boolean;
}

type Reason = 'expired' | 'reauth';
type Step = { kind: 'password' } | { kind: 'factor'; mfaToken: string; methods: string[]; factor: string };

export function SessionDialog() {
  const { t } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  const settle = useRef<((ok: boolean) => void) | null>(null);
  const [reason, setReason] = useState<Reason | null>(null);
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setSignInPrompt(
      (why) =>
        new Promise<boolean>((resolve) => {
          settle.current = resolve;
          setEmail(signedInUser()?.email ?? '');
          setPassword('');
          setCode('');
          setErrors({});
          setProblem(null);
          setStep({ kind: 'password' });
          setReason(why);
        }),
    );
    return () => setSignInPrompt(null);
  }, []);

  useEffect(() => {
    const d = dialog.current;
    if (reason !== null && d && !d.open) d.showModal();
  }, [reason]);

  const finish = useCallback((ok: boolean) => {
    const resolve = settle.current;
    settle.current = null;
    setReason(null);
    setPassword('');
    setCode('');
    if (dialog.current?.open) dialog.current.close();
    resolve?.(ok);
  }, []);

  /** Signed in again: only the same account gets the page (and its form) back. */
  const signedIn = async (answer: SignInAnswer) => {
    if (answer.passwordChangeRequired || answer.mfaEnrollmentRequired) {
      window.location.assign('/account/sign-in');
      return finish(false);
    }
    const before = signedInUser();
    const me = await api<{ user: { id: string } }>('GET', '/api/auth/me', undefined, { signIn: false });
    if (before !== null && (!me.ok || me.data.user.id !== before.id)) {
      window.location.assign('/account');
      return finish(false);
    }
    finish(true);
  };

  const show = (p: Problem, field: string | null) => {
    if (field) {
      setErrors({ [field]: problemMessage(t, p) });
      setProblem(null);
    } else {
      setErrors({});
      setProblem(p);
    }
  };

  const run = (work: () => Promise<void>) => (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    void work().finally(() => setBusy(false));
  };

  const onPassword = run(async () => {
    setProblem(null);
    const local = {
      'reauth-email': email.trim() === '' ? t('field.required') : null,
      'reauth-password': password === '' ? t('field.required') : null,
    };
    setErrors(local);
    if (local['reauth-email'] || local['reauth-password']) return;
    const res = await api<SignInAnswer>('POST', '/api/auth/login', { email: email.trim(), password });
    if (!res.ok) return show(res.problem, null);
    setPassword('');
    if (res.data?.mfaRequired && res.data.mfaToken) {
      const methods = res.data.methods ?? [];
      const factor = methods.includes('totp') ? 'totp' : (methods[0] ?? 'totp');
      setStep({ kind: 'factor', mfaToken: res.data.mfaToken, methods, factor });
      return;
    }
    await signedIn(res.data ?? {});
  });

  const onFactor = run(async () => {
    if (step.kind !== 'factor') return;
    setProblem(null);
    let proof: Record<string, unknown>;
    const field = step.factor === 'totp' ? 'reauth-code' : 'reauth-backup';
    if (step.factor === 'passkey') {
      const options = await api('POST', '/api/auth/mfa/passkeys/challenge', { mfaToken: step.mfaToken });
      if (!options.ok) return show(options.problem, null);
      try {
        type Options = Parameters<typeof startAuthentication>[0]['optionsJSON'];
        proof = { passkey: await startAuthentication({ optionsJSON: options.data as Options }) };
      } catch {
        return show({ status: 0, code: 'PASSKEY_CANCELLED', detail: '', errors: [], retryAfter: null }, null);
      }
    } else {
      const value = step.factor === 'totp' ? code.replace(/\s+/g, '') : code.trim();
      if (value === '') return void setErrors({ [field]: t('field.required') });
      proof = step.factor === 'totp' ? { code: value } : { backupCode: value };
    }
    const res = await api<SignInAnswer>('POST', '/api/auth/mfa/verify', { mfaToken: step.mfaToken, ...proof });
    if (res.ok) return signedIn(res.data ?? {});
    if (res.problem.code === 'MFA_TOKEN_INVALID') {
      setStep({ kind: 'password' });
      return show(res.problem, null);
    }
    show(res.problem, res.problem.code === 'MFA_CODE_INVALID' && step.factor !== 'passkey' ? field : null);
  });

  const open = reason !== null;
  return (
    <dialog
      ref={dialog}
      className="session-dialog"
      aria-labelledby="session-dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        finish(false);
      }}
    >
      {open ? (
        <>
          <h2 id="session-dialog-title">{t(reason === 'reauth' ? 'session.reauth_title' : 'session.title')}</h2>
          <p>{t(reason === 'reauth' ? 'session.reauth_intro' : 'session.intro')}</p>
          {problem ? <Notice kind="error">{problemMessage(t, problem)}</Notice> : null}
          {step.kind === 'password' ? (
            <form onSubmit={onPassword} noValidate>
              <Field
                id="reauth-email"
                label={t('field.email')}
                type="email"
                autoComplete="username"
                required
                value={email}
                onValue={setEmail}
                error={errors['reauth-email']}
              />
              <Field
                id="reauth-password"
                label={t('field.password')}
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onValue={setPassword}
                error={errors['reauth-password']}
                autoFocus
              />
              <Submit busy={busy}>{t('button.sign_in')}</Submit>
            </form>
          ) : (
            <form onSubmit={onFactor} noValidate>
              {step.factor === 'totp' ? (
                <Field
                  id="reauth-code"
                  label={t('field.auth_code')}
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  required
                  value={code}
                  onValue={setCode}
                  error={errors['reauth-code']}
                  autoFocus
                />
              ) : step.factor === 'backup_code' ? (
                <Field
                  id="reauth-backup"
                  label={t('field.backup_code')}
                  autoComplete="off"
                  required
                  value={code}
                  onValue={setCode}
                  error={errors['reauth-backup']}
                  autoFocus
                />
              ) : null}
              <Submit busy={busy}>{step.factor === 'passkey' ? t('button.use_passkey') : t('button.verify')}</Submit>
              {step.methods
                .filter((m) => m !== step.factor && ['totp', 'backup_code', 'passkey'].includes(m))
                .map((m) => (
                  <button
                    key={m}
                    type="button"
                    className="link-button"
                    onClick={() => {
                      setCode('');
                      setErrors({});
                      setStep({ ...step, factor: m });
                    }}
                  >
                    {t(`signin.switch_${m}`)}
                  </button>
                ))}
            </form>
          )}
          <p className="links">
            <button type="button" className="link-button" onClick={() => finish(false)}>
              {t('session.cancel')}
            </button>
          </p>
        </>
      ) : null}
    </dialog>
  );
}
