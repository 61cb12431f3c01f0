/**
 * Operator alerts (permission security:manage), where the alert mails and webhooks link to
 * (PUBLIC_URL/admin/alerts/<id>, src/security/monitoring/alerts/):
 *
 * - the list (GET /api/admin/alerts, newest first, keyset pages) with its State and Severity
 *   filters and "Acknowledge <rule>" for each open alert (POST /api/admin/alerts/:id/ack);
 * - one alert (GET /api/admin/alerts/:id): rule, severity, summary, count, first and last seen,
 *   state, who acknowledged it and when, and its events: the audit log around the alert (first to
 *   last seen) embedded and linked, for an account that may read the audit log (audit:read).
 *
 * Every value (the summary carries attacker-chosen data: addresses, emails) is rendered as text.
 */
import { useQuery } from '@tanstack/react-query';
import { ListBase, useCreatePath, useListContext, type RaRecord } from 'ra-core';
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useI18n, type Translate } from '../../i18n';
import { useAdminResources } from '../context';
import { apiCall, registerEndpoint } from '../dataProvider';
import type { AdminResource } from '../types';
import { ListTable, type Column } from '../ui/list';
import { Screen, ScreenProblem } from '../ui/Screen';
import { OutcomeNotice, errorMessage, formatTime, useAction } from './shared';

const STATES = ['open', 'acknowledged'] as const;
const SEVERITIES = ['critical', 'warning', 'info'] as const;

export interface AlertRecord extends RaRecord {
  id: string;
  rule: string;
  severity: (typeof SEVERITIES)[number];
  summary: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  firstSeq: number | null;
  lastSeq: number | null;
  state: (typeof STATES)[number];
  ackedAt: string | null;
  ackedBy: string | null;
  link: string;
}

registerEndpoint('alerts', {
  list: () => '/api/admin/alerts',
  listQuery: (filter) => {
    const out: Record<string, string> = {};
    if (typeof filter['state'] === 'string' && (STATES as readonly string[]).includes(filter['state']))
      out['state'] = filter['state'];
    if (typeof filter['severity'] === 'string' && (SEVERITIES as readonly string[]).includes(filter['severity']))
      out['severity'] = filter['severity'];
    return out;
  },
  one: (id) => `/api/admin/alerts/${encodeURIComponent(String(id))}`,
  maxLimit: 100,
});

function Severity({ t, severity }: { t: Translate; severity: AlertRecord['severity'] }) {
  return <span className={`severity severity-${severity}`}>{t(`admin_alerts.severity_${severity}`)}</span>;
}

function StateText({ t, state }: { t: Translate; state: AlertRecord['state'] }) {
  return <span className={`alert-state alert-state-${state}`}>{t(`admin_alerts.state_${state}`)}</span>;
}

/** State and Severity: each applies as soon as it changes (a select, so the keyboard works as usual). */
function AlertFilters() {
  const { t } = useI18n();
  const list = useListContext<AlertRecord>();
  const setFilters = list.setFilters;
  const values = list.filterValues as { state?: string; severity?: string };
  const change = (key: 'state' | 'severity', value: string) => {
    const next: Record<string, string> = { ...(values as Record<string, string>) };
    if (value) next[key] = value;
    else delete next[key];
    setFilters(next, {});
  };
  return (
    <form className="admin-filters" aria-labelledby="alert-filters-title" onSubmit={(e) => e.preventDefault()}>
      <h2 id="alert-filters-title">{t('admin_alerts.filters')}</h2>
      <div className="admin-filter-grid">
        <div className="field">
          <label htmlFor="alerts-state">{t('admin_alerts.f_state')}</label>
          <select id="alerts-state" value={values.state ?? ''} onChange={(e) => change('state', e.target.value)}>
            <option value="">{t('admin_alerts.f_any')}</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {t(`admin_alerts.state_${s}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="alerts-severity">{t('admin_alerts.f_severity')}</label>
          <select
            id="alerts-severity"
            value={values.severity ?? ''}
            onChange={(e) => change('severity', e.target.value)}
          >
            <option value="">{t('admin_alerts.f_any')}</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {t(`admin_alerts.severity_${s}`)}
              </option>
            ))}
          </select>
        </div>
      </div>
    </form>
  );
}

function AckButton({ alert, busy, onAck }: { alert: AlertRecord; busy: boolean; onAck: (alert: AlertRecord) => void }) {
  const { t } = useI18n();
  if (alert.state !== 'open') return null;
  return (
    <button type="button" disabled={busy} onClick={() => onAck(alert)}>
      {t('admin_alerts.ack', { rule: alert.rule })}
    </button>
  );
}

function AlertRows() {
  const { t, locale } = useI18n();
  const createPath = useCreatePath();
  const { refetch } = useListContext<AlertRecord>();
  const { busy, outcome, run } = useAction();
  const ack = (alert: AlertRecord) =>
    void run(async () => {
      await apiCall('POST', `/api/admin/alerts/${encodeURIComponent(alert.id)}/ack`);
      await refetch();
      return t('admin_alerts.acked', { rule: alert.rule });
    });
  const columns: Column<AlertRecord>[] = [
    {
      key: 'rule',
      label: t('admin_alerts.col_rule'),
      render: (a) => (
        <Link
          to={createPath({ resource: 'alerts', type: 'edit', id: a.id })}
          aria-label={t('admin_alerts.open', { rule: a.rule, time: formatTime(locale, a.firstSeen) })}
        >
          {a.rule}
        </Link>
      ),
    },
    { key: 'severity', label: t('admin_alerts.col_severity'), render: (a) => <Severity t={t} severity={a.severity} /> },
    {
      key: 'summary',
      label: t('admin_alerts.col_summary'),
      render: (a) => <span className="alert-summary">{a.summary}</span>,
    },
    { key: 'count', label: t('admin_alerts.col_count'), render: (a) => a.count },
    { key: 'lastSeen', label: t('admin_alerts.col_last_seen'), render: (a) => formatTime(locale, a.lastSeen) },
    { key: 'state', label: t('admin_alerts.col_state'), render: (a) => <StateText t={t} state={a.state} /> },
    {
      key: 'actions',
      label: t('admin_users.col_actions'),
      render: (a) => <AckButton alert={a} busy={busy} onAck={ack} />,
    },
  ];
  return (
    <>
      <OutcomeNotice outcome={outcome} />
      <ListTable<AlertRecord> caption={t('admin_alerts.caption')} columns={columns} empty={t('admin_alerts.empty')} />
    </>
  );
}

export function AlertList() {
  const { t } = useI18n();
  return (
    <Screen title={t('admin_alerts.title')}>
      <p className="hint">{t('admin_alerts.intro')}</p>
      <ListBase resource="alerts" perPage={20} disableSyncWithLocation>
        <AlertFilters />
        <AlertRows />
      </ListBase>
    </Screen>
  );
}

/** The audit log's window around the alert: from the minute of its first event to the minute after its last. */
export function auditWindow(alert: Pick<AlertRecord, 'firstSeen' | 'lastSeen'>): { from: string; to: string } {
  const minute = 60_000;
  const from = Math.floor(new Date(alert.firstSeen).getTime() / minute) * minute;
  const to = Math.floor(new Date(alert.lastSeen).getTime() / minute) * minute + minute;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

interface AuditEvent {
  seq: number;
  time: string;
  action: string;
  actor: string;
  outcome: string;
  ip: string | null;
}

/** The alert's events from the audit log (audit:read), the raising one marked; a link to the log so filtered. */
function AlertEvents({ alert }: { alert: AlertRecord }) {
  const { t, locale } = useI18n();
  const mayReadAudit = useAdminResources().some((r) => r.name === 'audit');
  const createPath = useCreatePath();
  const span = auditWindow(alert);
  const events = useQuery({
    queryKey: ['admin', 'alerts', alert.id, 'events', span.from, span.to],
    enabled: mayReadAudit,
    queryFn: () =>
      apiCall<{ items: AuditEvent[]; nextCursor: string | null }>(
        'GET',
        `/api/admin/audit?${new URLSearchParams({ ...span, limit: '50' }).toString()}`,
      ),
  });
  const seqs = [alert.firstSeq, alert.lastSeq].filter((s): s is number => s !== null);
  return (
    <section className="admin-section" aria-labelledby="alert-events-title">
      <h2 id="alert-events-title">{t('admin_alerts.events_title')}</h2>
      {seqs.length > 0 ? (
        <p>{t('admin_alerts.events_seq', { first: alert.firstSeq ?? '', last: alert.lastSeq ?? '' })}</p>
      ) : (
        <p>{t('admin_alerts.events_scheduled')}</p>
      )}
      {!mayReadAudit ? (
        <p className="hint">{t('admin_alerts.events_no_access')}</p>
      ) : events.isPending ? (
        <p role="status">{t('admin.loading')}</p>
      ) : events.error ? (
        <ScreenProblem message={errorMessage(t, events.error)} />
      ) : (
        <>
          <p>
            <Link to={`${createPath({ resource: 'audit', type: 'list' })}?${new URLSearchParams(span).toString()}`}>
              {t('admin_alerts.events_link')}
            </Link>
          </p>
          {events.data.items.length === 0 ? (
            <p>{t('admin_security.events_empty')}</p>
          ) : (
            // A region the keyboard can scroll on a narrow screen (the table is wider than a phone).
            <div className="table-wrap" role="region" tabIndex={0} aria-labelledby="alert-events-caption">
              <table className="admin-table">
                <caption id="alert-events-caption">
                  {t('admin_alerts.events_caption', {
                    from: formatTime(locale, span.from),
                    to: formatTime(locale, span.to),
                  })}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">{t('admin_alerts.col_seq')}</th>
                    <th scope="col">{t('admin_security.col_time')}</th>
                    <th scope="col">{t('admin_security.col_action')}</th>
                    <th scope="col">{t('admin_security.col_actor')}</th>
                    <th scope="col">{t('admin_security.col_outcome')}</th>
                    <th scope="col">{t('admin_security.col_ip')}</th>
                  </tr>
                </thead>
                <tbody>
                  {events.data.items.map((e) => (
                    <tr key={e.seq} className={seqs.includes(e.seq) ? 'alert-event-raising' : undefined}>
                      <th scope="row">
                        {e.seq}
                        {seqs.includes(e.seq) ? ` (${t('admin_alerts.raising')})` : ''}
                      </th>
                      <td>{formatTime(locale, e.time)}</td>
                      <td>
                        <span className="audit-action">{e.action}</span>
                      </td>
                      <td>{e.actor}</td>
                      <td>{e.outcome}</td>
                      <td>{e.ip ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}

export function AlertDetail() {
  const { t, locale } = useI18n();
  const { id = '' } = useParams();
  const createPath = useCreatePath();
  const { busy, outcome, run } = useAction();
  const alert = useQuery({
    queryKey: ['admin', 'alerts', 'one', id],
    queryFn: () => apiCall<AlertRecord>('GET', `/api/admin/alerts/${encodeURIComponent(id)}`),
  });
  const back = <Link to={createPath({ resource: 'alerts', type: 'list' })}>{t('admin_alerts.back')}</Link>;
  if (alert.isPending)
    return (
      <Screen title={t('admin_alerts.detail_loading')} actions={back}>
        <p role="status">{t('admin.loading')}</p>
      </Screen>
    );
  if (alert.error)
    return (
      <Screen title={t('admin_alerts.detail_missing')} actions={back}>
        <ScreenProblem message={errorMessage(t, alert.error)} />
      </Screen>
    );
  const a = alert.data;
  const fact = (label: string, value: ReactNode, key?: string) => (
    <div data-fact={key}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
  return (
    <Screen title={t('admin_alerts.detail_title', { rule: a.rule })} actions={back}>
      <p className="alert-summary alert-summary-detail">{a.summary}</p>
      <dl className="admin-facts">
        {fact(t('admin_alerts.col_rule'), a.rule, 'rule')}
        {fact(t('admin_alerts.col_severity'), <Severity t={t} severity={a.severity} />, 'severity')}
        {fact(t('admin_alerts.col_count'), a.count, 'count')}
        {fact(t('admin_alerts.first_seen'), formatTime(locale, a.firstSeen), 'firstSeen')}
        {fact(t('admin_alerts.col_last_seen'), formatTime(locale, a.lastSeen), 'lastSeen')}
        {fact(t('admin_alerts.col_state'), <StateText t={t} state={a.state} />, 'state')}
        {a.ackedAt
          ? fact(
              t('admin_alerts.acked_at'),
              t('admin_alerts.acked_by', { time: formatTime(locale, a.ackedAt), by: a.ackedBy ?? '' }),
              'acked',
            )
          : null}
      </dl>
      <div className="admin-actions">
        <AckButton
          alert={a}
          busy={busy}
          onAck={(x) =>
            void run(async () => {
              await apiCall('POST', `/api/admin/alerts/${encodeURIComponent(x.id)}/ack`);
              await alert.refetch();
              return t('admin_alerts.acked', { rule: x.rule });
            })
          }
        />
      </div>
      <OutcomeNotice outcome={outcome} />
      <AlertEvents alert={a} />
    </Screen>
  );
}

export const alertsResource: AdminResource = {
  name: 'alerts',
  labelKey: 'admin_alerts.nav',
  permissions: ['security:manage'],
  list: AlertList,
  edit: AlertDetail,
};
