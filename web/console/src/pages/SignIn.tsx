import { startAuthentication } from '@simplewebauthn/browser';
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, fieldOf, type ApiResult, type Problem } from '../api';
import { Field } from '../components/Field';
import { passwordLengthProblem, Submit, useSubmit, weakMessage } from '../components/forms';
import { Layout } from '../components/Layout';
import { Notice } from '../components/Notice';
import { PasswordField } from '../components/PasswordField';
import { useI18n, type Translate } from '../i18n';
import { safeNext } from '../next-path';
import { problemMessage } from '../problems';

/** What a sign-in call answers (login, MFA verify, passkey verify) in browser mode: never a token. */
interface SignInAnswer {
  mfaRequired?: boolean;
  mfaToken?: string;
  methods?: string[];
  passwordChangeRequired?: boolean;
  mfaEnrollmentRequired?: boolean;
  enrollBy?: string;
}

type Factor = 'totp' | 'backup_code' | 'passkey';
const FACTORS: readonly Factor[] = ['totp', 'passkey', 'backup_code'];

type Step =
  | { kind: 'password' }
  | { kind: 'factor'; mfaToken: string; methods: Factor[]; factor: Factor }
  | { kind: 'change' }
  | { kind: 'enroll'; enrollBy: string | null };

/** A passkey assertion from the browser, or the problem to show (cancelled, not allowed, none here). */
async function passkeyAssertion(options: unknown): Promise<ApiResult<unknown>> {
  try {
    type Options = Parameters<typeof startAuthentication>[0]['optionsJSON'];
    const response = await startAuthentication({ optionsJSON: options as Options });
    return { ok: true, status: 200, data: response };
  } catch {
    return { ok: false, problem: { status: 0, code: 'PASSKEY_CANCELLED', detail: '', errors: [], retryAfter: null } };
  }
}

function enrollByText(t: Translate, locale: string, enrollBy: string | null): string {
  if (enrollBy === null) return t('signin.enroll_now');
  const when = new Date(enrollBy);
  if (Number.isNaN(when.getTime())) return t('signin.enroll_now');
  if (when.getTime() <= Date.now()) return t('signin.enroll_overdue');
  return t('signin.enroll_by', { date: when.toLocaleDateString(locale, { dateStyle: 'long' }) });
}

/**
 * /account/sign-in: email and password, then the second factor the account has (authentication
 * code, backup code or passkey, with "Remember this device"); passwordless passkey sign-in; the
 * forced password change and the MFA-enrollment-required states. Browser mode throughout: the
 * server sets httpOnly cookies, the page never holds a token. Afterwards it goes to `?next=` when
 * that is a console page of this origin (next-path.ts), else to /account.
 */
export function SignIn() {
  const { t, locale } = useI18n();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [remember, setRemember] = useState(false);
  const [newPassword, setNewPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const [problem, setProblem] = useState<Problem | null>(null);

  // Each new step (not the first load: the skip link stays first) puts the keyboard on its first
  // input, or on the page when it has none. A notice that appears takes focus itself.
  const stepKey = step.kind === 'factor' ? `factor:${step.factor}` : step.kind;
  const shownStep = useRef(stepKey);
  useEffect(() => {
    if (shownStep.current === stepKey) return;
    shownStep.current = stepKey;
    const first = document.querySelector<HTMLElement>('#main input') ?? document.getElementById('main');
    first?.focus();
  }, [stepKey]);

  /** Where a successful sign-in answer leads: a restricted state, or the page. */
  const signedIn = async (data: SignInAnswer) => {
    setPassword((p) => (data.passwordChangeRequired ? p : ''));
    if (data.passwordChangeRequired) {
      setStep({ kind: 'change' });
      return;
    }
    if (data.mfaEnrollmentRequired) {
      setStep({ kind: 'enroll', enrollBy: data.enrollBy ?? null });
      return;
    }
    await navigate(next, { replace: true });
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

  /** The mfaToken died (expired, used up, wrong too often): back to the start, saying why. */
  const restart = (p: Problem | null) => {
    setStep({ kind: 'password' });
    setCode('');
    setPassword('');
    setErrors({});
    setProblem(p);
  };

  const password1 = useSubmit(async () => {
    setProblem(null);
    const local = {
      email: email.trim() === '' ? t('field.required') : null,
      password: password === '' ? t('field.required') : null,
    };
    setErrors(local);
    if (local.email || local.password) return;
    const res = await api<SignInAnswer>('POST', '/api/auth/login', { email: email.trim(), password });
    if (!res.ok) {
      const field = fieldOf(res.problem, ['email', 'password']);
      if (field) setErrors({ [field]: res.problem.errors[0]?.message ?? problemMessage(t, res.problem) });
      else show(res.problem, null);
      return;
    }
    if (res.data?.mfaRequired && res.data.mfaToken) {
      const methods = FACTORS.filter((f) => (res.data.methods ?? []).includes(f));
      const factor = methods.includes('totp') ? 'totp' : (methods[0] ?? 'totp');
      setCode('');
      setErrors({});
      setStep({ kind: 'factor', mfaToken: res.data.mfaToken, methods, factor });
      return;
    }
    await signedIn(res.data ?? {});
  });

  const verifyWith = async (mfaToken: string, proof: Record<string, unknown>, field: string | null) => {
    const res = await api<SignInAnswer>('POST', '/api/auth/mfa/verify', {
      mfaToken,
      ...proof,
      ...(remember ? { rememberDevice: true } : {}),
    });
    if (res.ok) {
      await signedIn(res.data ?? {});
      return;
    }
    if (res.problem.code === 'MFA_TOKEN_INVALID') restart(res.problem);
    else
      show(
        res.problem,
        res.problem.code === 'MFA_CODE_INVALID' || fieldOf(res.problem, ['code', 'backupCode']) ? field : null,
      );
  };

  const factorSubmit = useSubmit(async () => {
    if (step.kind !== 'factor') return;
    setProblem(null);
    if (step.factor === 'passkey') {
      const options = await api('POST', '/api/auth/mfa/passkeys/challenge', { mfaToken: step.mfaToken });
      if (!options.ok) {
        if (options.problem.code === 'MFA_TOKEN_INVALID') restart(options.problem);
        else show(options.problem, null);
        return;
      }
      const assertion = await passkeyAssertion(options.data);
      if (!assertion.ok) return show(assertion.problem, null);
      await verifyWith(step.mfaToken, { passkey: assertion.data }, null);
      return;
    }
    const field = step.factor === 'totp' ? 'code' : 'backupCode';
    const value = step.factor === 'totp' ? code.replace(/\s+/g, '') : code.trim();
    if (value === '') {
      setErrors({ [field]: t('field.required') });
      return;
    }
    setErrors({});
    await verifyWith(step.mfaToken, { [field]: value }, field);
  });

  const passwordless = useSubmit(async () => {
    setProblem(null);
    setErrors({});
    const options = await api('POST', '/api/auth/passkey/options');
    if (!options.ok) return show(options.problem, null);
    const assertion = await passkeyAssertion(options.data);
    if (!assertion.ok) return show(assertion.problem, null);
    const res = await api<SignInAnswer>('POST', '/api/auth/passkey/verify', { response: assertion.data });
    if (!res.ok) return show(res.problem, null);
    await signedIn(res.data ?? {});
  });

  const change = useSubmit(async () => {
    setProblem(null);
    const local = passwordLengthProblem(t, newPassword);
    setErrors({ newPassword: local });
    if (local) return;
    const res = await api<{ status: string }>('POST', '/api/auth/password/change', {
      currentPassword: password,
      newPassword,
    });
    if (res.ok) {
      setPassword('');
      setNewPassword('');
      await navigate(next, { replace: true });
      return;
    }
    const p = res.problem;
    if (p.code === 'WEAK_PASSWORD') setErrors({ newPassword: weakMessage(t, p) });
    else if (fieldOf(p, ['newPassword'])) setErrors({ newPassword: p.errors[0]?.message ?? problemMessage(t, p) });
    else if (p.status === 401 && p.code !== 'RATE_LIMITED') restart(p);
    else show(p, null);
  });

  const signOut = async () => {
    await api('POST', '/api/auth/logout');
    setStep({ kind: 'password' });
    setPassword('');
    setProblem(null);
  };

  const notice = problem ? <Notice kind="error">{problemMessage(t, problem)}</Notice> : null;

  if (step.kind === 'factor') {
    const switchTo = (factor: Factor) => {
      setCode('');
      setErrors({});
      setProblem(null);
      setStep({ ...step, factor });
    };
    const others = step.methods.filter((m) => m !== step.factor);
    return (
      <Layout title={t('signin.factor_title')}>
        <form onSubmit={factorSubmit.onSubmit} noValidate>
          <p>{t(`signin.factor_intro_${step.factor}`)}</p>
          {notice}
          {step.factor === 'totp' ? (
            <Field
              id="code"
              label={t('field.auth_code')}
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9 ]*"
              required
              value={code}
              onValue={setCode}
              error={errors['code']}
            />
          ) : step.factor === 'backup_code' ? (
            <Field
              id="backupCode"
              label={t('field.backup_code')}
              autoComplete="off"
              autoCapitalize="off"
              spellCheck={false}
              required
              value={code}
              onValue={setCode}
              error={errors['backupCode']}
            />
          ) : null}
          <div className="check">
            <input id="remember" type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
            <label htmlFor="remember">{t('field.remember_device')}</label>
          </div>
          <Submit busy={factorSubmit.busy}>
            {step.factor === 'passkey' ? t('button.use_passkey') : t('button.verify')}
          </Submit>
        </form>
        {others.length > 0 ? (
          <section className="alt" aria-labelledby="other-ways">
            <h2 id="other-ways">{t('signin.other_ways')}</h2>
            <ul className="links">
              {others.map((m) => (
                <li key={m}>
                  <button type="button" className="link-button" onClick={() => switchTo(m)}>
                    {t(`signin.switch_${m}`)}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ) : null}
        <p className="links">
          <button type="button" className="link-button" onClick={() => restart(null)}>
            {t('signin.start_over')}
          </button>
        </p>
      </Layout>
    );
  }

  if (step.kind === 'change') {
    return (
      <Layout title={t('signin.change_title')}>
        <form onSubmit={change.onSubmit} noValidate>
          <p>{t('signin.change_intro')}</p>
          {notice}
          <PasswordField
            id="newPassword"
            label={t('field.new_password')}
            value={newPassword}
            onValue={setNewPassword}
            error={errors['newPassword'] ?? null}
            userInputs={[email]}
          />
          <Submit busy={change.busy}>{t('button.set_password')}</Submit>
        </form>
        <p className="links">
          <button type="button" className="link-button" onClick={() => void signOut()}>
            {t('button.sign_out')}
          </button>
        </p>
      </Layout>
    );
  }

  if (step.kind === 'enroll') {
    return (
      <Layout title={t('signin.enroll_title')}>
        <Notice kind="info">
          <p>{enrollByText(t, locale, step.enrollBy)}</p>
          <p>{t('signin.enroll_where')}</p>
        </Notice>
        <p className="links">
          <Link to={next}>{t('link.account')}</Link>
          <button type="button" className="link-button" onClick={() => void signOut()}>
            {t('button.sign_out')}
          </button>
        </p>
      </Layout>
    );
  }

  return (
    <Layout title={t('signin.title')}>
      <form onSubmit={password1.onSubmit} noValidate>
        <p>{t('signin.intro')}</p>
        {notice}
        <Field
          id="email"
          label={t('field.email')}
          type="email"
          autoComplete="username webauthn"
          required
          value={email}
          onValue={setEmail}
          error={errors['email']}
        />
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
        <Submit busy={password1.busy}>{t('button.sign_in')}</Submit>
      </form>
      <section className="alt" aria-labelledby="passkey-heading">
        <h2 id="passkey-heading">{t('signin.passkey_title')}</h2>
        <form onSubmit={passwordless.onSubmit}>
          <p>{t('signin.passkey_intro')}</p>
          <Submit busy={passwordless.busy}>{t('button.passkey_sign_in')}</Submit>
        </form>
      </section>
      <p className="links">
        <Link to="/forgot-password">{t('link.forgot')}</Link>
      </p>
    </Layout>
  );
}
