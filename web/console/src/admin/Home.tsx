/** /admin itself: where you are and the screens you may open; and the admin's "not found". */
import { useCreatePath } from 'ra-core';
import { Link } from 'react-router';
import { useI18n } from '../i18n';
import { useAdminResources } from './context';
import { Screen } from './ui/Screen';

export function AdminHome() {
  const { t } = useI18n();
  const createPath = useCreatePath();
  const resources = useAdminResources().filter((r) => r.nav ?? r.list !== undefined);
  return (
    <Screen title={t('admin.home.title')}>
      <p>{t('admin.home.intro')}</p>
      <ul className="admin-home-links">
        {resources.map((r) => (
          <li key={r.name}>
            <Link to={createPath({ resource: r.name, type: 'list' })}>{t(r.labelKey)}</Link>
          </li>
        ))}
      </ul>
    </Screen>
  );
}

export function AdminNotFound() {
  const { t } = useI18n();
  return (
    <Screen title={t('notfound.title')}>
      <p>{t('admin.not_found')}</p>
      <p>
        <Link to="/admin">{t('admin.nav.home')}</Link>
      </p>
    </Screen>
  );
}
