import { useI18n } from '../i18n';
import { TokenAction } from './TokenAction';

/** /verify-email?token= (mail "Confirm my email"). */
export function VerifyEmail() {
  const { t } = useI18n();
  return (
    <TokenAction
      path="/verify-email"
      api="/api/auth/email/verify"
      title={t('verify.title')}
      intro={t('verify.intro')}
      button={t('button.verify')}
      done={t('verify.done')}
    />
  );
}
