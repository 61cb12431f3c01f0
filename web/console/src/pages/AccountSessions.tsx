import { useCallback, useEffect, useState } from 'react';
import { api, type Problem } from '../api';
import { AccountLayout } from '../account/AccountLayout';
import { accountProblem, formatDate } from '../account/problems';
import { Notice } from '../components/Notice';
import { useI18n } from '../i18n';

interface Session {
  id: string;
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  ip: string | null;
  browser: string | null;
  os: string | null;
  device: string | null;
}

interface Device {
  id: string;
  current: boolean;
  label: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/**
 * /account/sessions: signed-in sessions (`GET /api/auth/sessions`, `current` marked; end one with
 * `DELETE /api/auth/sessions/:id`, its access ends at once on every node; all others with
 * `DELETE /api/auth/sessions`) and trusted devices (`GET /api/auth/mfa/devices`; forget one, or
 * every other with `DELETE /api/auth/mfa/devices?keepCurrent=true`).
 */
export function AccountSessions() {
  const { t, locale } = useI18n();
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const load = useCallback(async () => {
    const [s, d] = await Promise.all([
      api<{ sessions: Session[] }>('GET', '/api/auth/sessions'),
      api<{ items: Device[] }>('GET', '/api/auth/mfa/devices'),
    ]);
    if (s.ok) setSessions(s.data.sessions);
    if (d.ok) setDevices(d.data.items);
    const failed = !s.ok ? s.problem : !d.ok ? d.problem : null;
    if (failed) setProblem(failed);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const run = async (call: () => Promise<{ ok: boolean; problem?: Problem }>, done: string) => {
    setProblem(null);
    setMessage(null);
    const res = await call();
    if (!res.ok && res.problem) setProblem(res.problem);
    else setMessage(done);
    await load();
  };

  const what = (s: Session) => [s.browser, s.os, s.device].filter(Boolean).join(', ') || t('account.sessions.unknown');

  return (
    <AccountLayout title={t('account.sessions.title')}>
      {message ? <Notice kind="ok">{message}</Notice> : null}
      {problem ? <Notice kind="error">{accountProblem(t, problem)}</Notice> : null}
      <section aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">{t('account.sessions.sessions_heading')}</h2>
        {sessions === null ? (
          <p role="status">{t('account.loading')}</p>
        ) : (
          <>
            <ul className="item-list">
              {sessions.map((s) => (
                <li key={s.id} data-session={s.id} data-current={s.current || undefined}>
                  <p className="item-title">
                    {what(s)}
                    {s.current ? <strong className="badge"> {t('account.sessions.current')}</strong> : null}
                  </p>
                  <p className="hint">
                    {t('account.sessions.started', { date: formatDate(locale, s.createdAt) })},{' '}
                    {t('account.sessions.last_seen', { date: formatDate(locale, s.lastSeenAt) })}
                    {s.ip ? ` · ${s.ip}` : ''}
                  </p>
                  {s.current ? null : (
                    <button
                      type="button"
                      aria-label={t('account.sessions.revoke', {
                        what: what(s),
                        date: formatDate(locale, s.createdAt),
                      })}
                      onClick={() =>
                        void run(
                          () => api('DELETE', `/api/auth/sessions/${encodeURIComponent(s.id)}`),
                          t('account.sessions.revoked'),
                        )
                      }
                    >
                      {t('account.sessions.revoke_short')}
                    </button>
                  )}
                </li>
              ))}
            </ul>
            {sessions.some((s) => !s.current) ? (
              <button
                type="button"
                onClick={() =>
                  void run(
                    () => api('DELETE', '/api/auth/sessions'),
                    t('account.sessions.others_revoked', { count: sessions.filter((s) => !s.current).length }),
                  )
                }
              >
                {t('account.sessions.revoke_others')}
              </button>
            ) : null}
          </>
        )}
      </section>
      <section aria-labelledby="devices-heading">
        <h2 id="devices-heading">{t('account.sessions.devices_heading')}</h2>
        <p>{t('account.sessions.devices_intro')}</p>
        {devices === null ? null : devices.length === 0 ? (
          <p>{t('account.sessions.devices_none')}</p>
        ) : (
          <>
            <ul className="item-list">
              {devices.map((d) => (
                <li key={d.id}>
                  <p className="item-title">
                    {d.label}
                    {d.current ? <strong className="badge"> {t('account.sessions.device_current')}</strong> : null}
                  </p>
                  <p className="hint">
                    {t('account.passkeys.added_on', { date: formatDate(locale, d.createdAt) })}
                    {d.lastUsedAt
                      ? `, ${t('account.passkeys.last_used', { date: formatDate(locale, d.lastUsedAt) })}`
                      : ''}
                  </p>
                  <button
                    type="button"
                    aria-label={t('account.sessions.forget', { what: d.label })}
                    onClick={() =>
                      void run(
                        () => api('DELETE', `/api/auth/mfa/devices/${encodeURIComponent(d.id)}`),
                        t('account.sessions.forgotten'),
                      )
                    }
                  >
                    {t('account.sessions.forget_short')}
                  </button>
                </li>
              ))}
            </ul>
            {devices.some((d) => !d.current) ? (
              <button
                type="button"
                onClick={() =>
                  void run(
                    () => api('DELETE', '/api/auth/mfa/devices?keepCurrent=true'),
                    t('account.sessions.others_forgotten', { count: devices.filter((d) => !d.current).length }),
                  )
                }
              >
                {t('account.sessions.forget_others')}
              </button>
            ) : null}
          </>
        )}
      </section>
    </AccountLayout>
  );
}
