import { useCallback, useEffect, useState } from 'react';
import { api, type Problem } from '../api';
import { AccountLayout } from '../account/AccountLayout';
import { accountProblem, formatDate } from '../account/problems';
import { Notice } from '../components/Notice';
import { useI18n } from '../i18n';

interface AccountEvent {
  id: number;
  time: string;
  action: string;
  outcome: 'success' | 'failure' | 'denied';
  by: 'self' | 'anonymous' | 'system' | 'administrator';
  ip: string | null;
  userAgent: string | null;
}

/** /account/events: the account's own recent security events (`GET /api/account/events`), newest first. */
export function AccountEvents() {
  const { t, locale } = useI18n();
  const [items, setItems] = useState<AccountEvent[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  const load = useCallback(async (after: string | null) => {
    const query = after === null ? '' : `&cursor=${encodeURIComponent(after)}`;
    const res = await api<{ items: AccountEvent[]; nextCursor: string | null }>(
      'GET',
      `/api/account/events?limit=20${query}`,
    );
    if (!res.ok) return setProblem(res.problem);
    setItems((old) => (after === null ? res.data.items : [...(old ?? []), ...res.data.items]));
    setCursor(res.data.nextCursor);
  }, []);
  useEffect(() => {
    void load(null);
  }, [load]);

  return (
    <AccountLayout title={t('account.events.title')}>
      <p>{t('account.events.intro')}</p>
      {problem ? <Notice kind="error">{accountProblem(t, problem)}</Notice> : null}
      {items === null ? (
        problem ? null : (
          <p role="status">{t('account.loading')}</p>
        )
      ) : items.length === 0 ? (
        <p>{t('account.events.none')}</p>
      ) : (
        <ul className="item-list events">
          {items.map((e) => (
            <li key={e.id} data-action={e.action}>
              <p className="item-title">
                <code>{e.action}</code>
                {e.outcome === 'success' ? null : (
                  <strong className="badge badge-warn"> {t(`account.events.outcome_${e.outcome}`)}</strong>
                )}
              </p>
              <p className="hint">
                <time dateTime={e.time}>{formatDate(locale, e.time)}</time> · {t('account.events.who')}{' '}
                {t(`account.events.by_${e.by}`)}
                {e.ip ? ` · ${e.ip}` : ''}
              </p>
            </li>
          ))}
        </ul>
      )}
      {cursor !== null ? (
        <button type="button" onClick={() => void load(cursor)}>
          {t('account.events.more')}
        </button>
      ) : null}
    </AccountLayout>
  );
}
