import { EmailRequestForm } from '../components/forms';
import { Layout } from '../components/Layout';
import { useI18n } from '../i18n';

/** /forgot-password (linked from notices and from pages whose link no longer works). */
export function ForgotPassword() {
  const { t } = useI18n();
  return (
    <Layout title={t('forgot.title')}>
      <p>{t('forgot.intro')}</p>
      <EmailRequestForm path="/api/auth/password/forgot" button={t('button.send_link')} done={t('forgot.done')} />
    </Layout>
  );
}
