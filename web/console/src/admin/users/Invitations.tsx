/**
 * Invitations: invite someone by email with their roles (POST /api/admin/invitations: a
 * single-use link is mailed), and the invitations sent, each pending one withdrawable
 * (DELETE /api/admin/invitations/:id). Changes need a recent sign-in.
 */
import { ListBase, useCreatePath, useRefresh, type RaRecord } from 'ra-core';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Field } from '../../components/Field';
import { useI18n } from '../../i18n';
import { apiCall, registerEndpoint } from '../dataProvider';
import type { AdminResource } from '../types';
import { ListTable, type Column } from '../ui/list';
import { Screen } from '../ui/Screen';
import { OutcomeNotice, formatTime, problemOf, useAction } from '../security/shared';
import { RoleChoices } from './UserEdit';

registerEndpoint('invitations', {
  list: () => '/api/admin/invitations',
  one: (id) => `/api/admin/invitations/${encodeURIComponent(String(id))}`,
});

interface InvitationRecord extends RaRecord {
  id: string;
  email: string;
  roles: string[];
  state: 'pending' | 'accepted' | 'revoked' | 'expired';
  expiresAt: string;
}

export function Invitations() {
  const { t, locale } = useI18n();
  const createPath = useCreatePath();
  const refresh = useRefresh();
  const { busy, outcome, run } = useAction();
  const [email, setEmail] = useState('');
  const [roles, setRoles] = useState<string[]>([]);
  const [errors, setErrors] = useState<{ email?: string; roles?: string }>({});

  const invite = async (e: FormEvent) => {
    e.preventDefault();
    const found: { email?: string; roles?: string } = {};
    if (email.trim() === '') found.email = t('field.required');
    if (roles.length === 0) found.roles = t('admin_users.invite_roles_required');
    setErrors(found);
    if (found.email || found.roles) return;
    const ok = await run(async () => {
      try {
        await apiCall('POST', '/api/admin/invitations', { email: email.trim(), roles });
      } catch (error) {
        // A problem about one field goes under it as well.
        const problem = problemOf(error);
        const path = problem?.errors[0]?.path ?? '';
        if (/email/.test(path)) setErrors({ email: problem?.errors[0]?.message ?? '' });
        else if (/roles/.test(path) || problem?.code === 'UNKNOWN_ROLE') setErrors({ roles: problem?.detail ?? '' });
        throw error;
      }
      return t('admin_users.invited', { email: email.trim() });
    });
    if (ok) {
      setEmail('');
      setRoles([]);
      refresh();
    }
  };

  const columns: Column<InvitationRecord>[] = [
    { key: 'email', label: t('admin_users.col_email'), render: (i) => i.email },
    { key: 'roles', label: t('admin_users.col_roles'), render: (i) => i.roles.join(', ') },
    { key: 'state', label: t('admin_users.col_state'), render: (i) => t(`admin_users.state_${i.state}`) },
    { key: 'expires', label: t('admin_users.col_expires'), render: (i) => formatTime(locale, i.expiresAt) },
    {
      key: 'actions',
      label: t('admin_users.col_actions'),
      render: (i) =>
        i.state === 'pending' ? (
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await apiCall('DELETE', `/api/admin/invitations/${encodeURIComponent(i.id)}`);
                refresh();
                return t('admin_users.withdrawn');
              })
            }
          >
            {t('admin_users.withdraw', { email: i.email })}
          </button>
        ) : null,
    },
  ];

  return (
    <Screen
      title={t('admin_users.invitations_title')}
      actions={<Link to={createPath({ resource: 'users', type: 'list' })}>{t('admin_users.back')}</Link>}
    >
      <OutcomeNotice outcome={outcome} />
      <form className="admin-form" onSubmit={(e) => void invite(e)} noValidate aria-labelledby="invite-legend">
        <h2 id="invite-legend">{t('admin_users.invite_legend')}</h2>
        <Field
          id="invite-email"
          label={t('field.email')}
          type="email"
          autoComplete="off"
          value={email}
          onValue={setEmail}
          error={errors.email}
        />
        <RoleChoices
          idPrefix="invite"
          legend={t('admin_users.roles_legend')}
          selected={roles}
          onChange={setRoles}
          error={errors.roles}
        />
        <button type="submit" className="primary" disabled={busy}>
          {t('admin_users.invite')}
        </button>
      </form>
      <ListBase resource="invitations" perPage={50} disableSyncWithLocation>
        <ListTable<InvitationRecord>
          caption={t('admin_users.invitations_caption')}
          columns={columns}
          empty={t('admin_users.invitations_empty')}
        />
      </ListBase>
    </Screen>
  );
}

export const invitationsResource: AdminResource = {
  name: 'invitations',
  labelKey: 'admin_users.invitations_nav',
  permissions: ['user:manage'],
  list: Invitations,
};
