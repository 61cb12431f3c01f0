/**
 * What is left to translate into one language (docs/CONTENT.md "Missing translations"): each
 * portfolio with the fields of it, its children and its images (alt text) that have no text in
 * that language, each linked to the screen where it is written; "Show more portfolios" pages on.
 *
 * Calls: GET /api/admin/translations/missing?lang=&limit=&cursor=.
 */
import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router';
import { useI18n } from '../../i18n';
import { apiCall, CHILD_KINDS } from '../dataProvider';
import { Screen } from '../ui/Screen';
import { cmsMessage, Field } from './cms';
import { useSiteLanguages } from './languages';

interface MissingObject {
  kind: string;
  id: string;
  label: string;
  fields: string[];
}

interface MissingItem {
  portfolioId: string;
  slug: string;
  title: string;
  defaultLanguage: string;
  missingFields: number;
  missing: MissingObject[];
}

const PAGE = 20;

/** Where an object's texts are written: its own screen, or its portfolio's (portfolio, media). */
function pathOf(item: MissingItem, object: MissingObject): string {
  if ((CHILD_KINDS as readonly string[]).includes(object.kind))
    return `/admin/${object.kind}/${encodeURIComponent(object.id)}`;
  return `/admin/portfolios/${encodeURIComponent(item.portfolioId)}`;
}

export function MissingTranslationsScreen() {
  const { t } = useI18n();
  const languages = useSiteLanguages();
  const [lang, setLang] = useState('');
  const [items, setItems] = useState<MissingItem[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const chosen = lang || (languages?.find((l) => !l.isDefault)?.code ?? languages?.[0]?.code ?? '');

  const load = useCallback(
    async (code: string, cursor: string | null) => {
      if (code === '') return;
      setProblem(null);
      const params = new URLSearchParams({ lang: code, limit: String(PAGE) });
      if (cursor) params.set('cursor', cursor);
      try {
        const page = await apiCall<{ items: MissingItem[]; nextCursor: string | null }>(
          'GET',
          `/api/admin/translations/missing?${params.toString()}`,
        );
        setItems((current) => (cursor ? [...(current ?? []), ...page.items] : page.items));
        setNext(page.nextCursor);
      } catch (e) {
        setProblem(cmsMessage(t, e));
      }
    },
    [t],
  );
  useEffect(() => {
    setItems(null);
    void load(chosen, null);
  }, [load, chosen]);

  const fieldName = (kind: string, field: string) =>
    kind === 'media' ? t('admin_cms.alt.column') : t(`admin.field.${field}`);
  const kindName = (kind: string) =>
    kind === 'portfolio'
      ? t('admin.portfolios.edit')
      : kind === 'media'
        ? t('admin.media.title')
        : t(`admin.kind_edit.${kind}`);
  const withMissing = (items ?? []).filter((i) => i.missingFields > 0);
  return (
    <Screen title={t('admin_cms.missing.title')}>
      <p>{t('admin_cms.missing.intro')}</p>
      {languages === null ? (
        <p role="status">{t('admin.loading')}</p>
      ) : (
        <Field id="missing-language" label={t('admin_cms.missing.language')}>
          {(aria) => (
            <select {...aria} value={chosen} onChange={(e) => setLang(e.target.value)}>
              {languages.map((l) => (
                <option key={l.code} value={l.code}>
                  {l.nativeName}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <div role="alert">{problem ? <p className="notice notice-error">{problem}</p> : null}</div>
      {items === null ? (
        <p>{t('admin.loading')}</p>
      ) : withMissing.length === 0 ? (
        <p role="status">{t('admin_cms.missing.none')}</p>
      ) : (
        <ul className="cms-text-list">
          {withMissing.map((item) => (
            <li key={item.portfolioId} className="admin-card" data-portfolio={item.portfolioId}>
              <h2>
                <Link to={`/admin/portfolios/${encodeURIComponent(item.portfolioId)}`}>{item.title}</Link>{' '}
                <span className="hint">{t('admin_cms.missing.count', { smart_count: item.missingFields })}</span>
              </h2>
              <ul>
                {item.missing.map((object) => (
                  <li key={`${object.kind}-${object.id}`}>
                    <Link to={pathOf(item, object)}>
                      {kindName(object.kind)}: {object.label}
                    </Link>{' '}
                    — {object.fields.map((f) => fieldName(object.kind, f)).join(', ')}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
      {next ? (
        <p>
          <button type="button" onClick={() => void load(chosen, next)}>
            {t('admin_cms.missing.more')}
          </button>
        </p>
      ) : null}
    </Screen>
  );
}
