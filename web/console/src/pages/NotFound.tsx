import { Link } from 'react-router';
import { Layout } from '../components/Layout';
import { useI18n } from '../i18n';

export function NotFound() {
  const { t } = useI18n();
  return (
    <Layout title={t('notfound.title')}>
      <p>{t('notfound.intro')}</p>
      <p>
        <Link to="/account">{t('link.account')}</Link>
      </p>
    </Layout>
  );
}
