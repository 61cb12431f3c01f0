/**
 * Scheduled publishing (src/content/schedule, docs/CONTENT.md) of a portfolio or a project:
 * "Publish at" and "Unpublish at" typed in this browser's time zone (said next to the inputs),
 * sent as UTC instants; "Cancel the schedule" clears both. The schedule job applies them on the
 * server's clock.
 *
 * Calls: PATCH /api/portfolios/:id or /api/projects/:id {publishAt, unpublishAt}.
 */
import { useRefresh } from 'ra-core';
import { useState, type FormEvent } from 'react';
import { useI18n } from '../../i18n';
import { apiCall } from '../dataProvider';
import { Field, fieldProblems, fromLocalInput, OutcomeNotice, timeZone, toLocalInput, useAction } from './cms';

interface Scheduled {
  id: string;
  publishAt?: string | null;
  unpublishAt?: string | null;
}

export function SchedulePanel({ kind, record }: { kind: 'portfolios' | 'projects'; record: Scheduled }) {
  const { t, locale } = useI18n();
  const refresh = useRefresh();
  const { busy, outcome, run } = useAction();
  const [publishAt, setPublishAt] = useState(toLocalInput(record.publishAt));
  const [unpublishAt, setUnpublishAt] = useState(toLocalInput(record.unpublishAt));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const zone = timeZone();
  const path = `/api/${kind}/${encodeURIComponent(record.id)}`;
  const when = (iso: string | null | undefined) =>
    iso ? new Date(iso).toLocaleString(locale, { dateStyle: 'full', timeStyle: 'short', timeZone: zone }) : null;

  const send = async (body: { publishAt: string | null; unpublishAt: string | null }, done: string) => {
    setErrors({});
    const error = await run(async () => {
      const saved = await apiCall<Scheduled>('PATCH', path, body);
      setPublishAt(toLocalInput(saved.publishAt));
      setUnpublishAt(toLocalInput(saved.unpublishAt));
      refresh();
      return done;
    });
    if (error) setErrors(fieldProblems(error));
  };
  const save = (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    void send(
      { publishAt: fromLocalInput(publishAt), unpublishAt: fromLocalInput(unpublishAt) },
      t('admin_cms.schedule.saved'),
    );
  };
  const id = `${kind}-schedule`;
  const planned = [
    record.publishAt ? t('admin_cms.schedule.publishes', { when: when(record.publishAt) }) : null,
    record.unpublishAt ? t('admin_cms.schedule.unpublishes', { when: when(record.unpublishAt) }) : null,
  ].filter(Boolean);
  return (
    <section aria-labelledby={`${id}-title`} className="admin-card">
      <h2 id={`${id}-title`}>{t('admin_cms.schedule.title')}</h2>
      <p id={`${id}-zone`}>{t('admin_cms.schedule.zone', { zone })}</p>
      <p>{planned.length > 0 ? planned.join(' ') : t('admin_cms.schedule.none')}</p>
      <form noValidate onSubmit={save} className="cms-form cms-schedule">
        <Field id={`${id}-publish`} label={t('admin_cms.schedule.publish_at')} error={errors['publishAt']} hint={zone}>
          {(aria) => (
            <input {...aria} type="datetime-local" value={publishAt} onChange={(e) => setPublishAt(e.target.value)} />
          )}
        </Field>
        <Field
          id={`${id}-unpublish`}
          label={t('admin_cms.schedule.unpublish_at')}
          error={errors['unpublishAt']}
          hint={zone}
        >
          {(aria) => (
            <input
              {...aria}
              type="datetime-local"
              value={unpublishAt}
              onChange={(e) => setUnpublishAt(e.target.value)}
            />
          )}
        </Field>
        <p className="admin-actions">
          <button type="submit" className="primary" aria-disabled={busy || undefined}>
            {t('admin_cms.schedule.save')}
          </button>
          {record.publishAt || record.unpublishAt ? (
            <button
              type="button"
              aria-disabled={busy || undefined}
              onClick={() => void send({ publishAt: null, unpublishAt: null }, t('admin_cms.schedule.cancelled'))}
            >
              {t('admin_cms.schedule.cancel')}
            </button>
          ) : null}
        </p>
      </form>
      <OutcomeNotice outcome={outcome} />
    </section>
  );
}
