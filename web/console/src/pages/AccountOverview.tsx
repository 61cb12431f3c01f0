import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { api, type Problem } from '../api';
import { AccountLayout } from '../account/AccountLayout';
import { useAccount } from '../account/context';
import { accountProblem } from '../account/problems';
import { Notice } from '../components/Notice';
import { useI18n } from '../i18n';

export interface MfaStatus {
  enabled: boolean;
  methods: string[];
  totp: { enabled: boolean; pending: boolean };
  passkeys: number;
  backupCodes: { remaining: number; total: number };
  trustedDevices: number;
  enrollment: { required: boolean; enrollBy: string | null };
}

/** /account: profile, email confirmation (and a new link), and which second factors are on. */
export function AccountOverview() {
  const { t, locale } = useI18n();
  const { me, restricted } = useAccount();
  const [mfa, setMfa] = useState<MfaStatus | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [sent, setSent] = useState(false);

  useEffect(() => {
    let live = true;
    void api<MfaStatus>('GET', '/api/auth/mfa').then((res) => {
      if (!live) return;
      if (res.ok) setMfa(res.data);
      else setProblem(res.problem);
    });
    return () => {
      live = false;
    };
  }, []);

  const resend = async () => {
    setProblem(null);
    const res = await api('POST', '/api/auth/email/resend', { email: me.email });
    if (res.ok) setSent(true);
    else setProblem(res.problem);
  };

  const enrollBy =
    mfa?.enrollment.required && mfa.enrollment.enrollBy
      ? t('account.profile.enroll_by', {
          date: new Date(mfa.enrollment.enrollBy).toLocaleDateString(locale, { dateStyle: 'long' }),
        })
      : null;

  return (
    <AccountLayout title={t('account.title')}>
      {problem ? <Notice kind="error">{accountProblem(t, problem)}</Notice> : null}
      {restricted || (mfa?.enrollment.required && !mfa.enabled) ? (
        <Notice kind="info">
          <p>{enrollBy ?? t('signin.enroll_now')}</p>
          <p className="links">
            <Link to="/account/security">{t('account.totp.start')}</Link>
            <Link to="/account/passkeys">{t('account.passkeys.add')}</Link>
          </p>
        </Notice>
      ) : null}
      {restricted ? null : (
        <dl className="facts">
          <dt>{t('field.name')}</dt>
          <dd>{me.name}</dd>
          <dt>{t('field.email')}</dt>
          <dd>{me.email}</dd>
          <dt>{t('account.profile.status')}</dt>
          <dd>
            {me.emailVerified ? t('account.email_verified') : t('account.email_unverified')}
            {!me.emailVerified && !sent ? (
              <>
                {' '}
                <button type="button" className="link-button" onClick={() => void resend()}>
                  {t('account.profile.resend')}
                </button>
              </>
            ) : null}
          </dd>
          <dt>{t('account.roles')}</dt>
          <dd>{me.roles.join(', ')}</dd>
          {mfa ? (
            <>
              <dt>{t('account.profile.factors')}</dt>
              <dd>
                {mfa.enabled
                  ? t('account.profile.factors_on', {
                      methods: mfa.methods.map((m) => t(`account.profile.method_${m}`)).join(', '),
                    })
                  : t('account.profile.factors_off')}
              </dd>
            </>
          ) : null}
        </dl>
      )}
      {sent ? <Notice kind="ok">{t('account.profile.resend_done')}</Notice> : null}
    </AccountLayout>
  );
}
