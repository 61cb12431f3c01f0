/**
 * The audit log (permission audit:read), replacing the old /admin dashboard: the chain's
 * verification status (GET /api/admin/audit/status), the last 24 hours' failed sign-ins, limited
 * requests and blocks (GET /api/admin/audit/stats), the events newest first with filters
 * (GET /api/admin/audit), and the export of what the filters match as CSV or JSON Lines
 * (GET /api/admin/audit/export: a recent sign-in is needed). Every value is rendered as text.
 * Filters in the address (`?from=&to=&action=…`, as an alert's page links) are the list's first.
 */
import { useQuery } from '@tanstack/react-query';
import { ListBase, useListContext, type RaRecord } from 'ra-core';
import { useState, type FormEvent } from 'react';
import { useLocation } from 'react-router';
import type { Problem } from '../../api';
import { Field } from '../../components/Field';
import { useI18n } from '../../i18n';
import { apiCall, registerEndpoint, toHttpError } from '../dataProvider';
import type { AdminResource } from '../types';
import { ListTable, type Column } from '../ui/list';
import { Screen, ScreenProblem } from '../ui/Screen';
import { OutcomeNotice, WithRecordIds, errorMessage, formatTime, useAction } from './shared';

const FILTERS = ['action', 'actor', 'outcome', 'ip', 'from', 'to'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/** The API's query from the list's filter values (dates as ISO instants). */
function auditQuery(filter: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of FILTERS) {
    const value = filter[key];
    if (typeof value !== 'string' || value.trim() === '') continue;
    if (key === 'from' || key === 'to') {
      const d = new Date(value);
      if (!Number.isNaN(d.getTime())) out[key] = d.toISOString();
    } else out[key] = value.trim();
  }
  return out;
}

/** A date-time as a datetime-local input holds it: local time, to the minute. */
function localInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Filters given in the address (`/admin/audit?from=…&to=…`, e.g. an alert's events): the list starts with them. */
function filtersFromAddress(search: string): Filters {
  const params = new URLSearchParams(search);
  const out: Filters = {};
  for (const key of FILTERS) {
    const value = params.get(key)?.trim();
    if (!value) continue;
    out[key] = key === 'from' || key === 'to' ? localInput(value) : value;
  }
  return out;
}

registerEndpoint('audit', {
  list: () => '/api/admin/audit',
  listQuery: auditQuery,
  // There is no single-event read: the list is the only view.
  one: () => '/api/admin/audit',
  maxLimit: 200,
});

interface AuditEvent extends RaRecord {
  seq: number;
  time: string;
  action: string;
  actor: string;
  outcome: string;
  ip: string | null;
  target: { type: string | null; id: string | null } | null;
}

interface ChainStatus {
  ok: boolean;
  summary: string;
  events: number;
  lastCheckpoint: { seq: number; time: string } | null;
  checkpoints: { total: number; valid: number };
}

function ChainStatusPanel() {
  const { t, locale } = useI18n();
  const status = useQuery({
    queryKey: ['admin', 'audit', 'status'],
    queryFn: () => apiCall<ChainStatus>('GET', '/api/admin/audit/status'),
  });
  return (
    <section className="admin-section" aria-labelledby="chain-title">
      <h2 id="chain-title">{t('admin_security.chain_title')}</h2>
      {status.isPending ? (
        <p role="status">{t('admin.loading')}</p>
      ) : status.error ? (
        <ScreenProblem message={errorMessage(t, status.error)} />
      ) : (
        <>
          <p className={status.data.ok ? 'chain chain-ok' : 'chain chain-broken'} data-ok={String(status.data.ok)}>
            <strong>{status.data.ok ? t('admin_security.chain_ok') : t('admin_security.chain_broken')}</strong>:{' '}
            {status.data.summary}
          </p>
          <p>
            {status.data.lastCheckpoint
              ? t('admin_security.chain_checkpoint', {
                  seq: status.data.lastCheckpoint.seq,
                  time: formatTime(locale, status.data.lastCheckpoint.time),
                })
              : t('admin_security.chain_no_checkpoint')}
          </p>
          <p className="hint">
            {t('admin_security.chain_counts', {
              events: status.data.events,
              valid: status.data.checkpoints.valid,
              total: status.data.checkpoints.total,
            })}
          </p>
        </>
      )}
    </section>
  );
}

interface Stats {
  series: { failedLogins: number; limited: number; blocks: number }[];
}

function StatsPanel() {
  const { t } = useI18n();
  const stats = useQuery({
    queryKey: ['admin', 'audit', 'stats'],
    queryFn: () => apiCall<Stats>('GET', '/api/admin/audit/stats?bucket=hour'),
  });
  if (stats.isPending || stats.error) return null;
  const sum = (k: 'failedLogins' | 'limited' | 'blocks') => stats.data.series.reduce((n, b) => n + b[k], 0);
  return (
    <section className="admin-section" aria-labelledby="stats-title">
      <h2 id="stats-title">{t('admin_security.stats_title')}</h2>
      <dl className="admin-stats">
        <div>
          <dt>{t('admin_security.stats_failed')}</dt>
          <dd data-stat="failedLogins">{sum('failedLogins')}</dd>
        </div>
        <div>
          <dt>{t('admin_security.stats_limited')}</dt>
          <dd data-stat="limited">{sum('limited')}</dd>
        </div>
        <div>
          <dt>{t('admin_security.stats_blocks')}</dt>
          <dd data-stat="blocks">{sum('blocks')}</dd>
        </div>
      </dl>
    </section>
  );
}

/** The filters form: applied with the button (or Enter), cleared with the other. */
function AuditFilters() {
  const { t } = useI18n();
  const list = useListContext<AuditEvent>();
  const setFilters = list.setFilters;
  const [draft, setDraft] = useState<Filters>(() => ({ ...(list.filterValues as Filters) }));
  const set = (key: keyof Filters) => (value: string) => setDraft((d) => ({ ...d, [key]: value }));
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const next: Filters = {};
    for (const key of FILTERS) if (draft[key]?.trim()) next[key] = draft[key]?.trim();
    setFilters(next, {});
  };
  return (
    <form className="admin-filters" onSubmit={apply} aria-labelledby="filters-title">
      <h2 id="filters-title">{t('admin_security.filters')}</h2>
      <div className="admin-filter-grid">
        <Field
          id="audit-action"
          label={t('admin_security.f_action')}
          value={draft.action ?? ''}
          onValue={set('action')}
        />
        <Field id="audit-actor" label={t('admin_security.f_actor')} value={draft.actor ?? ''} onValue={set('actor')} />
        <div className="field">
          <label htmlFor="audit-outcome">{t('admin_security.f_outcome')}</label>
          <select id="audit-outcome" value={draft.outcome ?? ''} onChange={(e) => set('outcome')(e.target.value)}>
            <option value="">{t('admin_security.f_any')}</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
            <option value="denied">denied</option>
          </select>
        </div>
        <Field id="audit-ip" label={t('admin_security.f_ip')} value={draft.ip ?? ''} onValue={set('ip')} />
        <Field
          id="audit-from"
          label={t('admin_security.f_from')}
          type="datetime-local"
          value={draft.from ?? ''}
          onValue={set('from')}
        />
        <Field
          id="audit-to"
          label={t('admin_security.f_to')}
          type="datetime-local"
          value={draft.to ?? ''}
          onValue={set('to')}
        />
      </div>
      <div className="admin-actions">
        <button type="submit" className="primary">
          {t('admin_security.apply')}
        </button>
        <button
          type="button"
          onClick={() => {
            setDraft({});
            setFilters({}, {});
          }}
        >
          {t('admin_security.clear')}
        </button>
      </div>
    </form>
  );
}

/** Export what the applied filters match; a problem (REAUTH_REQUIRED) is shown, never saved as the file. */
function ExportButtons() {
  const { t } = useI18n();
  const filterValues = useListContext<AuditEvent>().filterValues as Filters;
  const { busy, outcome, run } = useAction();
  const download = (format: 'csv' | 'jsonl') =>
    run(async () => {
      const params = new URLSearchParams({ ...auditQuery(filterValues), format });
      const res = await fetch(`/api/admin/audit/export?${params.toString()}`, {
        credentials: 'same-origin',
        headers: { 'x-auth-mode': 'browser' },
        cache: 'no-store',
      });
      if (!res.ok) {
        const body = ((await res.json().catch(() => null)) ?? {}) as Partial<Problem>;
        throw toHttpError({
          status: res.status,
          code: typeof body.code === 'string' ? body.code : 'UNKNOWN',
          detail: typeof body.detail === 'string' ? body.detail : '',
          errors: [],
          retryAfter: null,
        });
      }
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `audit.${format}`;
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return t('admin_security.exported');
    });
  return (
    <div>
      <div className="admin-actions">
        <button type="button" disabled={busy} onClick={() => void download('csv')}>
          {t('admin_security.export_csv')}
        </button>
        <button type="button" disabled={busy} onClick={() => void download('jsonl')}>
          {t('admin_security.export_jsonl')}
        </button>
      </div>
      <OutcomeNotice outcome={outcome} />
    </div>
  );
}

const idOfEvent = (record: RaRecord) => String((record as AuditEvent).seq);

export function AuditLog() {
  const { t, locale } = useI18n();
  const { search } = useLocation();
  const [initialFilters] = useState(() => filtersFromAddress(search));
  const columns: Column<AuditEvent>[] = [
    { key: 'time', label: t('admin_security.col_time'), render: (e) => formatTime(locale, e.time) },
    {
      key: 'action',
      label: t('admin_security.col_action'),
      render: (e) => <span className="audit-action">{e.action}</span>,
    },
    { key: 'actor', label: t('admin_security.col_actor'), render: (e) => e.actor },
    { key: 'outcome', label: t('admin_security.col_outcome'), render: (e) => e.outcome },
    { key: 'ip', label: t('admin_security.col_ip'), render: (e) => e.ip ?? '' },
    {
      key: 'target',
      label: t('admin_security.col_target'),
      render: (e) => (e.target ? [e.target.type, e.target.id].filter(Boolean).join(' ') : ''),
    },
  ];
  return (
    <Screen title={t('admin_security.audit_title')}>
      <ChainStatusPanel />
      <StatsPanel />
      <WithRecordIds idOf={idOfEvent}>
        <ListBase resource="audit" perPage={50} disableSyncWithLocation filterDefaultValues={initialFilters}>
          <AuditFilters />
          <ExportButtons />
          <ListTable<AuditEvent>
            caption={t('admin_security.events_caption')}
            columns={columns}
            empty={t('admin_security.events_empty')}
          />
        </ListBase>
      </WithRecordIds>
    </Screen>
  );
}

export const auditResource: AdminResource = {
  name: 'audit',
  labelKey: 'admin_security.audit_nav',
  permissions: ['audit:read'],
  list: AuditLog,
};
