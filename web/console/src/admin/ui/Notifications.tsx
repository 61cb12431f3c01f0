/** ra-core's notifications (saved, deleted, errors) in a live region, in the console's language. */
import { useNotificationContext, useTranslate } from 'ra-core';
import { useEffect } from 'react';
import { useI18n } from '../../i18n';

export function Notifications() {
  const { notifications, setNotifications } = useNotificationContext();
  const translate = useTranslate();
  const { t } = useI18n();
  const latest = notifications.at(-1);
  // One message at a time; a newer one replaces it after a while.
  useEffect(() => {
    if (!latest || latest.type === 'error') return;
    const timer = window.setTimeout(() => setNotifications((list) => list.slice(1)), 6000);
    return () => window.clearTimeout(timer);
  }, [latest, setNotifications]);
  const text =
    latest === undefined
      ? ''
      : typeof latest.message === 'string'
        ? translate(latest.message, { _: latest.message, ...(latest.notificationOptions?.messageArgs ?? {}) })
        : '';
  return (
    <div className="admin-notifications">
      <div role="status" aria-live="polite">
        {latest && latest.type !== 'error' ? <p className="notice notice-ok">{text}</p> : null}
      </div>
      <div role="alert">
        {latest && latest.type === 'error' ? (
          <p className="notice notice-error">
            {text}{' '}
            <button type="button" className="link-button" onClick={() => setNotifications([])}>
              {t('admin.action.dismiss')}
            </button>
          </p>
        ) : null}
      </div>
    </div>
  );
}
