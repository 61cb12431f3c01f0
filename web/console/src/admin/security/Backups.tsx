/**
 * Backup status (permission security:manage): the newest verified (drilled) backup and the
 * recovery point state against BACKUP_RPO_HOURS (GET /api/admin/backups/status, the reading
 * /health/ready reports to operators).
 */
import { useQuery } from '@tanstack/react-query';
import { useI18n } from '../../i18n';
import { apiCall } from '../dataProvider';
import type { AdminResource } from '../types';
import { Screen, ScreenProblem } from '../ui/Screen';
import { errorMessage, formatTime } from './shared';

interface BackupStatus {
  status: 'ok' | 'stale' | 'none';
  newestVerifiedAt: string | null;
  ageHours: number | null;
  rpoHours: number;
}

export function Backups() {
  const { t, locale } = useI18n();
  const status = useQuery({
    queryKey: ['admin', 'backups', 'status'],
    queryFn: () => apiCall<BackupStatus>('GET', '/api/admin/backups/status'),
  });
  return (
    <Screen title={t('admin_security.backups_title')}>
      {status.isPending ? (
        <p role="status">{t('admin.loading')}</p>
      ) : status.error ? (
        <ScreenProblem message={errorMessage(t, status.error)} />
      ) : (
        <>
          <dl className="admin-facts">
            <div>
              <dt>{t('admin_security.rpo_state')}</dt>
              <dd className={`rpo rpo-${status.data.status}`} data-rpo={status.data.status}>
                {t(`admin_security.rpo_${status.data.status}`)}
              </dd>
            </div>
            <div>
              <dt>{t('admin_security.newest_verified')}</dt>
              <dd>
                {status.data.newestVerifiedAt
                  ? formatTime(locale, status.data.newestVerifiedAt)
                  : t('admin_security.never')}
              </dd>
            </div>
            {status.data.ageHours !== null ? (
              <div>
                <dt>{t('admin_security.age')}</dt>
                <dd>{t('admin_security.age_hours', { hours: status.data.ageHours })}</dd>
              </div>
            ) : null}
            <div>
              <dt>{t('admin_security.objective')}</dt>
              <dd>{t('admin_security.age_hours', { hours: status.data.rpoHours })}</dd>
            </div>
          </dl>
          <p className="hint">{t('admin_security.backups_help')}</p>
        </>
      )}
    </Screen>
  );
}

export const backupsResource: AdminResource = {
  name: 'backups',
  labelKey: 'admin_security.backups_nav',
  permissions: ['security:manage'],
  list: Backups,
};
