/** Every "My account" screen: the console layout with the screen's <h1>, the account's nav and Sign out. */
import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import { Layout } from '../components/Layout';
import { useI18n } from '../i18n';
import '../styles/account.css';
import { useAccount } from './context';

export const ACCOUNT_SCREENS = [
  { path: '/account', key: 'overview' },
  { path: '/account/password', key: 'password' },
  { path: '/account/security', key: 'security' },
  { path: '/account/passkeys', key: 'passkeys' },
  { path: '/account/sessions', key: 'sessions' },
  { path: '/account/events', key: 'events' },
] as const;

export function AccountLayout({ title, children }: { title: string; children: ReactNode }) {
  const { t } = useI18n();
  const { signOut } = useAccount();
  return (
    <Layout title={title}>
      <nav className="account-nav" aria-label={t('account.nav_label')}>
        <ul>
          {ACCOUNT_SCREENS.map((s) => (
            <li key={s.key}>
              <NavLink to={s.path} end>
                {t(`account.nav.${s.key}`)}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="account-body">{children}</div>
      <p className="account-sign-out">
        <button type="button" onClick={() => void signOut()}>
          {t('button.sign_out')}
        </button>
      </p>
    </Layout>
  );
}
