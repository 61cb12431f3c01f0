/**
 * Quarantine (permission security:manage): the files held back by the upload pipeline with why
 * and the scan verdict (GET /api/admin/quarantine), released with a reason that goes to the audit
 * log (POST /api/admin/quarantine/:id/release {reason}: the file is still validated and
 * sanitised, only the scan is overridden) or deleted (DELETE /api/admin/quarantine/:id).
 */
import { ListBase, useRefresh, type RaRecord } from 'ra-core';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { useI18n } from '../../i18n';
import { apiCall, registerEndpoint } from '../dataProvider';
import type { AdminResource } from '../types';
import { ListTable, type Column } from '../ui/list';
import { Screen } from '../ui/Screen';
import { OutcomeNotice, formatTime, problemOf, useAction } from './shared';

registerEndpoint('quarantine', {
  list: () => '/api/admin/quarantine',
  one: (id) => `/api/admin/quarantine/${encodeURIComponent(String(id))}`,
  maxLimit: 100,
});

interface QuarantinedFile extends RaRecord {
  id: string;
  name: string;
  contentType: string | null;
  size: number;
  status: string;
  statusReason: string | null;
  scan: { verdict: string | null; signature: string | null };
  createdAt: string;
}

/** The release form of one file: its reason (3 to 500 characters), kept in the audit log. */
function ReleaseForm({
  file,
  onDone,
  onCancel,
}: {
  file: QuarantinedFile;
  onDone: (message: string) => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const { busy, outcome, run } = useAction();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (reason.trim() === '') {
      setError(t('field.required'));
      return;
    }
    setError(null);
    let message = '';
    const ok = await run(async () => {
      try {
        const media = await apiCall<{ status: string }>(
          'POST',
          `/api/admin/quarantine/${encodeURIComponent(file.id)}/release`,
          { reason: reason.trim() },
        );
        message = t('admin_security.released', { name: file.name, status: media.status });
        return message;
      } catch (err) {
        const problem = problemOf(err);
        if (problem?.errors.some((x) => /reason/.test(x.path)))
          setError(problem.errors.find((x) => /reason/.test(x.path))?.message ?? '');
        throw err;
      }
    });
    if (ok) onDone(message);
  };
  return (
    <form
      className="admin-form admin-section"
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-labelledby="release-title"
    >
      <h2 id="release-title" ref={heading} tabIndex={-1}>
        {t('admin_security.release_legend', { name: file.name })}
      </h2>
      <OutcomeNotice outcome={outcome} />
      <Field
        id="release-reason"
        label={t('admin_security.release_reason')}
        value={reason}
        onValue={setReason}
        error={error}
        maxLength={500}
        extraId="release-reason-hint"
        extra={
          <p id="release-reason-hint" className="hint">
            {t('admin_security.release_hint')}
          </p>
        }
      />
      <div className="admin-actions">
        <button type="submit" className="primary" disabled={busy}>
          {t('admin_security.release_submit')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('admin_users.cancel')}
        </button>
      </div>
    </form>
  );
}

export function Quarantine() {
  const { t, locale } = useI18n();
  const refresh = useRefresh();
  const { busy, outcome, run, setOutcome } = useAction();
  const [releasing, setReleasing] = useState<QuarantinedFile | null>(null);
  const columns: Column<QuarantinedFile>[] = [
    { key: 'file', label: t('admin_security.col_file'), render: (f) => f.name },
    { key: 'why', label: t('admin_security.col_why'), render: (f) => f.statusReason ?? '' },
    {
      key: 'verdict',
      label: t('admin_security.col_verdict'),
      render: (f) => [f.scan.verdict, f.scan.signature].filter(Boolean).join(': '),
    },
    { key: 'uploaded', label: t('admin_security.col_uploaded'), render: (f) => formatTime(locale, f.createdAt) },
    {
      key: 'actions',
      label: t('admin_users.col_actions'),
      render: (f) => (
        <div className="admin-actions">
          <button type="button" disabled={busy} onClick={() => setReleasing(f)}>
            {t('admin_security.release_legend', { name: f.name })}
          </button>
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await apiCall('DELETE', `/api/admin/quarantine/${encodeURIComponent(f.id)}`);
                if (releasing?.id === f.id) setReleasing(null);
                refresh();
                return t('admin_security.deleted', { name: f.name });
              })
            }
          >
            {t('admin_security.delete', { name: f.name })}
          </button>
        </div>
      ),
    },
  ];
  return (
    <Screen title={t('admin_security.quarantine_title')}>
      <OutcomeNotice outcome={outcome} />
      <ListBase resource="quarantine" perPage={20} disableSyncWithLocation>
        <ListTable<QuarantinedFile>
          caption={t('admin_security.quarantine_caption')}
          columns={columns}
          empty={t('admin_security.quarantine_empty')}
        />
      </ListBase>
      {releasing ? (
        <ReleaseForm
          key={releasing.id}
          file={releasing}
          onCancel={() => setReleasing(null)}
          onDone={(message) => {
            setOutcome({ kind: 'ok', text: message });
            setReleasing(null);
            refresh();
          }}
        />
      ) : null}
    </Screen>
  );
}

export const quarantineResource: AdminResource = {
  name: 'quarantine',
  labelKey: 'admin_security.quarantine_nav',
  permissions: ['security:manage'],
  list: Quarantine,
};
