import { useState } from 'react';
import { LinkProblem, SetPasswordForm } from '../components/forms';
import { Layout } from '../components/Layout';
import { useI18n } from '../i18n';
import { forgetMailedToken, mailedToken } from '../mailed-token';

/** /reset-password?token= (mail "Choose a new password"). */
export function ResetPassword() {
  const { t } = useI18n();
  const [token] = useState(() => mailedToken('/reset-password'));
  return (
    <Layout title={t('reset.title')}>
      {token === null ? (
        <LinkProblem problem="missing" />
      ) : (
        <>
          <p>{t('reset.intro')}</p>
          <SetPasswordForm token={token} done={t('reset.done')} onDone={forgetMailedToken} />
        </>
      )}
    </Layout>
  );
}
