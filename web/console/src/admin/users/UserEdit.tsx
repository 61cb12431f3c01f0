/**
 * One user's access: roles (PATCH /api/admin/users/:id {roles}), disable or enable (PATCH
 * {disabled}: a disabled account loses every session at once), revoke every session
 * (POST .../revoke-tokens) and reset the second factors (POST .../mfa/reset, after a confirmation).
 * Every change needs a recent sign-in (REAUTH_REQUIRED offers to sign in again).
 */
import { useQuery } from '@tanstack/react-query';
import { useCreatePath, useEditController, useGetIdentity, useUpdate } from 'ra-core';
import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useI18n } from '../../i18n';
import { apiCall } from '../dataProvider';
import { Screen, ScreenProblem } from '../ui/Screen';
import { OutcomeNotice, errorMessage, useAction } from '../security/shared';
import type { AdminUserRecord } from './UserList';

export interface RoleRecord {
  name: string;
  description: string;
  builtIn: boolean;
  languages: string[] | null;
}

/** Every role of the site (GET /api/admin/roles), for the roles checkboxes here and in an invitation. */
export function useRoles() {
  return useQuery({
    queryKey: ['admin', 'roles'],
    queryFn: () => apiCall<{ items: RoleRecord[] }>('GET', '/api/admin/roles').then((r) => r.items),
  });
}

/** Checkboxes, one per role, in a fieldset with its legend. */
export function RoleChoices({
  idPrefix,
  legend,
  selected,
  onChange,
  error,
}: {
  idPrefix: string;
  legend: string;
  selected: readonly string[];
  onChange: (roles: string[]) => void;
  error?: string | null;
}) {
  const { t } = useI18n();
  const roles = useRoles();
  if (roles.isPending) return <p role="status">{t('admin.loading')}</p>;
  if (roles.error) return <ScreenProblem message={errorMessage(t, roles.error)} />;
  const errorId = `${idPrefix}-roles-error`;
  return (
    <fieldset className="admin-choices" aria-describedby={error ? errorId : undefined}>
      <legend>{legend}</legend>
      {roles.data.map((role) => {
        const id = `${idPrefix}-role-${role.name}`;
        return (
          <div className="check" key={role.name}>
            <input
              id={id}
              type="checkbox"
              checked={selected.includes(role.name)}
              onChange={(e) =>
                onChange(e.target.checked ? [...selected, role.name] : selected.filter((r) => r !== role.name))
              }
              aria-describedby={`${id}-hint`}
            />
            <label htmlFor={id}>{role.name}</label>
            <span id={`${id}-hint`} className="hint">
              {role.description}
            </span>
          </div>
        );
      })}
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

export function UserEdit() {
  const { t } = useI18n();
  const createPath = useCreatePath();
  const { identity } = useGetIdentity();
  const { record, isPending, error, refetch } = useEditController<AdminUserRecord>({
    resource: 'users',
    redirect: false,
    mutationMode: 'pessimistic',
  });
  const [update] = useUpdate<AdminUserRecord>();
  const { busy, outcome, run } = useAction();
  const [roles, setRoles] = useState<string[]>([]);
  const [confirmReset, setConfirmReset] = useState(false);
  useEffect(() => {
    if (record) setRoles(record.roles);
  }, [record]);

  if (isPending) return <p role="status">{t('admin.loading')}</p>;
  if (error || !record) return <ScreenProblem message={errorMessage(t, error)} />;
  const self = identity?.id === record.id;

  const change = (data: Partial<AdminUserRecord>, done: string) =>
    run(async () => {
      await update(
        'users',
        { id: record.id, data, previousData: record },
        { mutationMode: 'pessimistic', returnPromise: true },
      );
      await refetch();
      return done;
    });

  const saveRoles = (e: FormEvent) => {
    e.preventDefault();
    void change({ roles }, t('admin_users.roles_saved'));
  };

  return (
    <Screen
      title={t('admin_users.edit_title', { email: record.email })}
      actions={<Link to={createPath({ resource: 'users', type: 'list' })}>{t('admin_users.back')}</Link>}
    >
      <OutcomeNotice outcome={outcome} />
      <p>
        {record.name} · {record.disabled ? t('admin_users.disabled') : t('admin_users.active')}
      </p>
      {self ? <p className="hint">{t('admin_users.self')}</p> : null}
      <form className="admin-form" onSubmit={saveRoles} noValidate>
        <RoleChoices idPrefix="user" legend={t('admin_users.roles_legend')} selected={roles} onChange={setRoles} />
        <button type="submit" className="primary" disabled={busy || roles.length === 0}>
          {t('admin_users.save_roles')}
        </button>
      </form>
      <section className="admin-section" aria-labelledby="user-access">
        <h2 id="user-access">{t('admin_users.access')}</h2>
        <div className="admin-actions">
          <button
            type="button"
            disabled={busy || self}
            onClick={() =>
              void change(
                { disabled: !record.disabled },
                record.disabled ? t('admin_users.enabled_done') : t('admin_users.disabled_done'),
              )
            }
          >
            {record.disabled ? t('admin_users.enable') : t('admin_users.disable')}
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await apiCall('POST', `/api/admin/users/${encodeURIComponent(record.id)}/revoke-tokens`);
                return t('admin_users.revoked');
              })
            }
          >
            {t('admin_users.revoke')}
          </button>
          {confirmReset ? null : (
            <button type="button" disabled={busy} onClick={() => setConfirmReset(true)}>
              {t('admin_users.mfa_reset')}
            </button>
          )}
        </div>
        {confirmReset ? (
          <div className="admin-confirm" role="group" aria-labelledby="mfa-reset-question">
            <p id="mfa-reset-question">{t('admin_users.mfa_reset_confirm')}</p>
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  const res = await apiCall<{
                    removed: { totp: boolean; passkeys: number; backupCodes: number; devices: number };
                  }>('POST', `/api/admin/users/${encodeURIComponent(record.id)}/mfa/reset`);
                  setConfirmReset(false);
                  const count = (res.removed.totp ? 1 : 0) + res.removed.passkeys;
                  return t('admin_users.mfa_reset_done', { count });
                })
              }
            >
              {t('admin_users.mfa_reset_yes')}
            </button>
            <button type="button" onClick={() => setConfirmReset(false)}>
              {t('admin_users.cancel')}
            </button>
          </div>
        ) : null}
      </section>
    </Screen>
  );
}
