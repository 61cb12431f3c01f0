/**
 * Preview links of a portfolio (src/content/preview): make one (its URL is shown once: only its
 * hash is stored), see the live ones, revoke one.
 */
import { useCallback, useEffect, useState } from 'react';
import { useI18n } from '../../i18n';
import { apiCall } from '../dataProvider';

interface PreviewLink {
  id: string;
  createdAt: string;
  expiresAt: string;
}

const LIFETIMES = [
  { seconds: 3600, key: 'admin.preview.hour' },
  { seconds: 86_400, key: 'admin.preview.day' },
  { seconds: 7 * 86_400, key: 'admin.preview.week' },
] as const;

export function PreviewLinks({ portfolioId }: { portfolioId: string }) {
  const { t, locale } = useI18n();
  const [links, setLinks] = useState<PreviewLink[] | null>(null);
  const [lifetime, setLifetime] = useState<number>(86_400);
  const [created, setCreated] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const path = `/api/portfolios/${encodeURIComponent(portfolioId)}/preview-links`;
  const load = useCallback(async () => {
    try {
      setLinks((await apiCall<{ items: PreviewLink[] }>('GET', path)).items);
    } catch (e) {
      setProblem((e as Error).message);
    }
  }, [path]);
  useEffect(() => {
    void load();
  }, [load]);
  const create = async () => {
    setProblem(null);
    try {
      const link = await apiCall<{ id: string; url: string; expiresAt: string }>('POST', path, { expiresIn: lifetime });
      setCreated(link.url);
      await load();
    } catch (e) {
      setProblem((e as Error).message);
    }
  };
  const revoke = async (id: string) => {
    setProblem(null);
    try {
      await apiCall('DELETE', `${path}/${encodeURIComponent(id)}`);
      await load();
    } catch (e) {
      setProblem((e as Error).message);
    }
  };
  const when = (iso: string) => new Date(iso).toLocaleString(locale);
  return (
    <section aria-labelledby="preview-title" className="admin-card">
      <h2 id="preview-title">{t('admin.preview.title')}</h2>
      <p className="hint">{t('admin.preview.intro')}</p>
      <div className="field">
        <label htmlFor="preview-lifetime">{t('admin.preview.lifetime')}</label>
        <select id="preview-lifetime" value={lifetime} onChange={(e) => setLifetime(Number(e.target.value))}>
          {LIFETIMES.map((l) => (
            <option key={l.seconds} value={l.seconds}>
              {t(l.key)}
            </option>
          ))}
        </select>
      </div>
      <button type="button" onClick={() => void create()}>
        {t('admin.preview.create')}
      </button>
      {created ? (
        <div className="field" role="status">
          <label htmlFor="preview-url">{t('admin.preview.url')}</label>
          <input id="preview-url" readOnly value={created} onFocus={(e) => e.target.select()} />
          <p className="hint">{t('admin.preview.once')}</p>
        </div>
      ) : null}
      {problem ? (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      ) : null}
      {links && links.length > 0 ? (
        <ul className="preview-links">
          {links.map((l) => (
            <li key={l.id}>
              {t('admin.preview.expires', { when: when(l.expiresAt) })}{' '}
              <button
                type="button"
                onClick={() => void revoke(l.id)}
                aria-label={t('admin.preview.revoke_named', { when: when(l.expiresAt) })}
              >
                {t('admin.preview.revoke')}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
