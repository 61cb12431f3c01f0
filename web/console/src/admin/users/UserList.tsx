/** Users: every account (email, name, roles, status), each opening its access screen (UserEdit). */
import { ListBase, useCreatePath, type RaRecord } from 'ra-core';
import { Link } from 'react-router';
import { useI18n } from '../../i18n';
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
