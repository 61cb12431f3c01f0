/**
 * The admin's frame: skip link, header (language, who is signed in, Sign out), the navigation of
 * the screens this user may open, and one <main> where each screen puts its <h1>.
 */
import { useCreatePath, useGetIdentity, useLogout } from 'ra-core';
import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import { LOCALES, useI18n, type Locale } from '../i18n';
import { useAdminResources } from './context';
import { Notifications } from './ui/Notifications';

export function AdminLayout({ children }: { children: ReactNode }) {
  const { t, locale, setLocale } = useI18n();
  const { identity } = useGetIdentity();
  const logout = useLogout();
  const createPath = useCreatePath();
  const resources = useAdminResources().filter((r) => r.nav ?? r.list !== undefined);
  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <header className="top-bar admin-bar">
        <NavLink className="brand" to="/admin" end>
          {t('admin.title')}
        </NavLink>
        <label className="lang-switch">
          <span>{t('lang.label')}</span>
          <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
            {LOCALES.map((l) => (
              <option key={l} value={l} lang={l}>
                {t(`lang.${l}`)}
              </option>
            ))}
          </select>
        </label>
        <div className="admin-user">
          {identity?.fullName ? <span className="admin-who">{identity.fullName}</span> : null}
          <button type="button" onClick={() => void logout()}>
            {t('button.sign_out')}
          </button>
        </div>
      </header>
      <nav className="admin-nav" aria-label={t('admin.nav.label')}>
        <ul>
          <li>
            <NavLink to="/admin" end>
              {t('admin.nav.home')}
            </NavLink>
          </li>
          {resources.map((r) => (
            <li key={r.name}>
              <NavLink to={createPath({ resource: r.name, type: 'list' })}>{t(r.labelKey)}</NavLink>
            </li>
          ))}
          <li>
            <a href="/account">{t('admin.nav.account')}</a>
          </li>
        </ul>
      </nav>
      <main id="main" className="page admin-page" tabIndex={-1}>
        <Notifications />
        {children}
      </main>
    </>
  );
}
