/**
 * Media of a portfolio (or a project): upload with a progress bar while the file streams, then
 * its pipeline status live (scanning → available, or quarantined with the reason) by polling
 * `GET /api/media/:id` until it settles; resumes per language (the default one of each
 * language is what `/api/public/portfolios/:slug/resume?lang=` answers).
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useI18n } from '../../i18n';
import { problemMessage } from '../../problems';
import { apiCall, fetchAll } from '../dataProvider';
import type { SiteLanguage } from './languages';
import { uploadWithProgress } from './upload';
import { AltText, altMissing } from './AltText';

export interface MediaRow {
  id: string;
  category: string;
  kind: 'image' | 'document';
  language: string | null;
  isDefaultResume: boolean;
  status: string;
  statusReason: string | null;
  name: string;
  size: number;
  alt?: string;
  caption?: string;
  translations?: Record<string, { alt?: string; caption?: string }>;
}

const CATEGORIES = ['main', 'thumbnail', 'gallery', 'background', 'resume', 'document'] as const;
const SETTLED = new Set(['available', 'quarantined', 'rejected']);
const POLL_MS = 1000;

/** The choices of a medium's language: every language (no value), or one site language. */
function LanguageOptions({ languages }: { languages: readonly SiteLanguage[] }) {
  const { t } = useI18n();
  return (
    <>
      <option value="">{t('admin.media.every_language')}</option>
      {languages.map((l) => (
        <option key={l.code} value={l.code}>
          {l.nativeName}
        </option>
      ))}
    </>
  );
}

export function statusKey(status: string): string {
  if (status === 'available' || status === 'quarantined' || status === 'rejected')
    return `admin.media.status_${status}`;
  return 'admin.media.status_scanning';
}

export function MediaPanel({
  parent,
  parentId,
  languages,
  slug,
  defaultLanguage,
}: {
  parent: 'portfolio' | 'project';
  parentId: string;
  languages: readonly SiteLanguage[];
  slug?: string;
  /** The portfolio's language: the media's plain `alt` is in it, the others in `translations`. */
  defaultLanguage?: string;
}) {
  const { t } = useI18n();
  const [rows, setRows] = useState<MediaRow[] | null>(null);
  const [category, setCategory] = useState<string>('main');
  const [language, setLanguage] = useState('');
  const [defaultResume, setDefaultResume] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const fileInput = useRef<HTMLInputElement>(null);
  const listPath = `/api/${parent}s/${encodeURIComponent(parentId)}/media`;

  const load = useCallback(async () => {
    try {
      setRows(await fetchAll<MediaRow>(listPath));
    } catch {
      setProblem(t('admin.load_failed'));
    }
  }, [listPath, t]);
  useEffect(() => {
    void load();
  }, [load]);

  // Live status: while a file is still in the pipeline, ask again every second.
  const pending = (rows ?? []).filter((r) => !SETTLED.has(r.status)).map((r) => r.id);
  const pendingKey = pending.join(',');
  useEffect(() => {
    if (pendingKey === '') return;
    let live = true;
    const timer = window.setTimeout(() => {
      void Promise.all(
        pendingKey
          .split(',')
          .map((id) => apiCall<MediaRow>('GET', `/api/media/${encodeURIComponent(id)}`).catch(() => null)),
      ).then((fresh) => {
        if (!live) return;
        setRows((current) => (current ?? []).map((r) => fresh.find((f) => f?.id === r.id) ?? r));
        for (const f of fresh) {
          if (f && SETTLED.has(f.status))
            setStatus(t('admin.media.settled', { name: f.name, status: t(statusKey(f.status)) }));
        }
      });
    }, POLL_MS);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [pendingKey, t]);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (progress) return;
    setProblem(null);
    if (!file) {
      setFileError(t('admin.media.choose_file'));
      fileInput.current?.focus();
      return;
    }
    setFileError(null);
    const form = new FormData();
    // The API reads the fields before the file (src/security/uploads/routes.ts).
    form.append('category', category);
    if (category === 'resume' && defaultResume) form.append('isDefaultResume', 'true');
    if (language !== '') form.append('language', language);
    form.append('file', file, file.name);
    setProgress({ sent: 0, total: file.size });
    setStatus(t('admin.media.uploading', { name: file.name }));
    const res = await uploadWithProgress<MediaRow>(listPath, form, (sent, total) => setProgress({ sent, total }));
    setProgress(null);
    if (!res.ok) {
      const p = res.problem;
      const message = p.code === 'NETWORK' || p.status >= 500 ? problemMessage(t, p) : p.detail || problemMessage(t, p);
      setFileError(message);
      setStatus('');
      return;
    }
    setStatus(t('admin.media.uploaded', { name: res.data.name, status: t(statusKey(res.data.status)) }));
    setFile(null);
    if (fileInput.current) fileInput.current.value = '';
    setRows((current) => [res.data, ...(current ?? []).filter((r) => r.id !== res.data.id)]);
  };

  const remove = async (row: MediaRow) => {
    try {
      await apiCall('DELETE', `/api/media/${encodeURIComponent(row.id)}`);
      setRows((current) => (current ?? []).filter((r) => r.id !== row.id));
      setStatus(t('admin.media.deleted', { name: row.name }));
    } catch (e) {
      setProblem((e as Error).message);
    }
  };

  /** A medium's language after upload: one site language, or every language (null). */
  const changeLanguage = async (row: MediaRow, language: string | null) => {
    setProblem(null);
    try {
      const saved = await apiCall<MediaRow>('PATCH', `/api/media/${encodeURIComponent(row.id)}`, { language });
      setRows((current) => (current ?? []).map((c) => (c.id === saved.id ? { ...c, ...saved } : c)));
      setStatus(t('admin.media.language_set', { name: row.name, language: langName(language) }));
    } catch (e) {
      setProblem((e as Error).message);
    }
  };

  const percent = progress && progress.total > 0 ? Math.round((progress.sent / progress.total) * 100) : 0;
  const withoutAlt = (rows ?? []).filter((r) => altMissing(r, languages, defaultLanguage).length > 0);
  const resumes = (rows ?? []).filter((r) => r.category === 'resume' && r.isDefaultResume && r.status === 'available');
  const headingId = `${parent}-media-title`;
  const langName = (code: string | null) =>
    code === null ? t('admin.media.every_language') : (languages.find((l) => l.code === code)?.nativeName ?? code);

  return (
    <section aria-labelledby={headingId} className="admin-card">
      <h2 id={headingId}>{t('admin.media.title')}</h2>
      <form onSubmit={(e) => void onSubmit(e)} noValidate className="upload-form">
        <div className={fileError ? 'field has-error' : 'field'}>
          <label htmlFor={`${parent}-media-file`}>{t('admin.media.file')}</label>
          <input
            ref={fileInput}
            id={`${parent}-media-file`}
            type="file"
            accept="image/jpeg,image/png,image/webp,image/gif,image/avif,application/pdf"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            aria-invalid={fileError ? true : undefined}
            aria-describedby={fileError ? `${parent}-media-file-error` : undefined}
          />
          {fileError ? (
            <p id={`${parent}-media-file-error`} className="field-error">
              {fileError}
            </p>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor={`${parent}-media-category`}>{t('admin.media.category')}</label>
          <select id={`${parent}-media-category`} value={category} onChange={(e) => setCategory(e.target.value)}>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {t(`admin.media.category_${c}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${parent}-media-language`}>{t('admin.media.language')}</label>
          <select id={`${parent}-media-language`} value={language} onChange={(e) => setLanguage(e.target.value)}>
            <LanguageOptions languages={languages} />
          </select>
        </div>
        {category === 'resume' ? (
          <div className="check">
            <input
              id={`${parent}-media-default-resume`}
              type="checkbox"
              checked={defaultResume}
              onChange={(e) => setDefaultResume(e.target.checked)}
            />
            <label htmlFor={`${parent}-media-default-resume`}>{t('admin.media.default_resume')}</label>
          </div>
        ) : null}
        <button type="submit" className="primary" aria-disabled={progress !== null || undefined}>
          {t('admin.media.upload')}
        </button>
        {progress ? (
          <div className="upload-progress">
            <label htmlFor={`${parent}-media-progress`}>{t('admin.media.progress')}</label>
            <progress id={`${parent}-media-progress`} max={100} value={percent}>
              {percent}%
            </progress>
            <span>{percent}%</span>
          </div>
        ) : null}
      </form>
      <p className="visually-hidden" role="status" aria-live="polite">
        {status}
      </p>
      {problem ? (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      ) : null}
      {withoutAlt.length > 0 ? (
        <p className="notice notice-warning" id={`${parent}-media-alt-warning`}>
          {t('admin_cms.alt.warning', { count: withoutAlt.length, smart_count: withoutAlt.length })}
        </p>
      ) : null}
      {rows === null ? (
        <p>{t('admin.loading')}</p>
      ) : rows.length === 0 ? (
        <p>{t('admin.media.empty')}</p>
      ) : (
        <div className="table-wrap">
          <table className="admin-table">
            <caption>{t('admin.media.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin.media.name')}</th>
                <th scope="col">{t('admin.media.category')}</th>
                <th scope="col">{t('admin.media.language')}</th>
                <th scope="col">{t('admin.media.status')}</th>
                <th scope="col">{t('admin_cms.alt.column')}</th>
                <th scope="col">{t('admin.media.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-media-id={r.id}>
                  <th scope="row">{r.name}</th>
                  <td>
                    {t(`admin.media.category_${r.category}`)}
                    {r.isDefaultResume ? ` (${t('admin.media.default')})` : ''}
                  </td>
                  <td>
                    <label className="visually-hidden" htmlFor={`media-language-${r.id}`}>
                      {t('admin.media.language_of', { name: r.name })}
                    </label>
                    <select
                      id={`media-language-${r.id}`}
                      value={r.language ?? ''}
                      onChange={(e) => void changeLanguage(r, e.target.value === '' ? null : e.target.value)}
                    >
                      <LanguageOptions languages={languages} />
                    </select>
                  </td>
                  <td className={`media-status media-${SETTLED.has(r.status) ? r.status : 'scanning'}`}>
                    {t(statusKey(r.status))}
                    {r.statusReason ? ` (${r.statusReason})` : ''}
                  </td>
                  <td className="media-alt">
                    {r.kind === 'image' ? (
                      <AltText
                        row={r}
                        languages={languages}
                        defaultLanguage={defaultLanguage}
                        onSaved={(saved) =>
                          setRows((current) => (current ?? []).map((c) => (c.id === saved.id ? { ...c, ...saved } : c)))
                        }
                      />
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>
                    <button
                      type="button"
                      onClick={() => void remove(r)}
                      aria-label={t('admin.action.delete_named', { title: r.name })}
                    >
                      {t('admin.action.delete')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {slug && resumes.length > 0 ? (
        <>
          <h3>{t('admin.media.resumes')}</h3>
          <ul>
            {resumes.map((r) => (
              <li key={r.id}>
                <a
                  href={`/api/public/portfolios/${encodeURIComponent(slug)}/resume${r.language ? `?lang=${encodeURIComponent(r.language)}` : ''}`}
                >
                  {t('admin.media.resume_in', { language: langName(r.language) })}
                </a>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
