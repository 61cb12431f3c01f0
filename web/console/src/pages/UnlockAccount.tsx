import { Link } from 'react-router';
import { useI18n } from '../i18n';
import { TokenAction } from './TokenAction';

/** /unlock-account?token= (mail "Unlock my account"). */
export function UnlockAccount() {
  const { t } = useI18n();
  return (
    <TokenAction
      path="/unlock-account"
      api="/api/auth/unlock"
      title={t('unlock.title')}
      intro={t('unlock.intro')}
      button={t('button.unlock')}
      done={t('unlock.done')}
      after={<Link to="/forgot-password">{t('link.forgot')}</Link>}
    />
  );
}
