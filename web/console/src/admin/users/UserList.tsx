/**
 * Users: every account (email, name, roles, second factors, status), each opening its access
 * screen (UserEdit). The second factors column says whether the account has an authenticator app,
 * passkeys, or none (`secondFactors` of GET /api/admin/users).
 */
import { ListBase, useCreatePath, type RaRecord } from 'ra-core';
import { Link } from 'react-router';
import { useI18n, type Translate } from '../../i18n';
import type { AdminResource } from '../types';
import { ListTable, type Column } from '../ui/list';
import { Screen } from '../ui/Screen';
import { UserEdit } from './UserEdit';

export interface AdminUserRecord extends RaRecord {
  id: string;
  email: string;
  name: string;
  roles: string[];
  disabled: boolean;
  mustChangePassword: boolean;
  createdAt: string;
  /** Which second factors the account has (GET /api/admin/users; never a secret). */
  secondFactors?: { totp: boolean; passkeys: number };
}

/** "Authenticator app", "2 passkeys", both, or "None". */
export function secondFactorText(t: Translate, factors: AdminUserRecord['secondFactors']): string {
  if (!factors) return '';
  const parts: string[] = [];
  if (factors.totp) parts.push(t('admin_users.mfa_totp'));
  if (factors.passkeys > 0) parts.push(t('admin_users.mfa_passkeys', { smart_count: factors.passkeys }));
  return parts.length > 0 ? parts.join(', ') : t('admin_users.mfa_none');
}

export function UserList() {
  const { t } = useI18n();
  const createPath = useCreatePath();
  const columns: Column<AdminUserRecord>[] = [
    {
      key: 'email',
      label: t('admin_users.col_email'),
      render: (u) => <Link to={createPath({ resource: 'users', type: 'edit', id: u.id })}>{u.email}</Link>,
    },
    { key: 'name', label: t('admin_users.col_name'), render: (u) => u.name },
    { key: 'roles', label: t('admin_users.col_roles'), render: (u) => u.roles.join(', ') },
    {
      key: 'mfa',
      label: t('admin_users.col_mfa'),
      render: (u) => (
        <span className={u.secondFactors && !u.secondFactors.totp && u.secondFactors.passkeys === 0 ? 'mfa-none' : ''}>
          {secondFactorText(t, u.secondFactors)}
        </span>
      ),
    },
    {
      key: 'status',
      label: t('admin_users.col_status'),
      render: (u) => (
        <>
          {u.disabled ? t('admin_users.disabled') : t('admin_users.active')}
          {u.mustChangePassword ? ` (${t('admin_users.must_change')})` : ''}
        </>
      ),
    },
  ];
  return (
    <Screen
      title={t('admin_users.title')}
      actions={
        <Link to={createPath({ resource: 'invitations', type: 'list' })}>{t('admin_users.invitations_nav')}</Link>
      }
    >
      <ListBase resource="users" perPage={50} disableSyncWithLocation>
        <ListTable<AdminUserRecord>
          caption={t('admin_users.caption')}
          columns={columns}
          empty={t('admin_users.empty')}
        />
      </ListBase>
    </Screen>
  );
}

export const usersResource: AdminResource = {
  name: 'users',
  labelKey: 'admin_users.nav',
  permissions: ['user:manage'],
  list: UserList,
  edit: UserEdit,
};
