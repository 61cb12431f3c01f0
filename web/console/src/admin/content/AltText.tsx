/**
 * An image's alt text and caption per language (docs/CONTENT.md "Media everywhere"): the plain
 * `alt` and `caption` are in the portfolio's language, the others in `translations.<lang>`. The
 * languages still without alt text are said in the row, as the missing-translation report lists
 * them: an image for one language needs it in that language and the portfolio's.
 *
 * Calls: PATCH /api/media/:id {alt, caption, translations}.
 */
import { useState, type FormEvent } from 'react';
import { useI18n } from '../../i18n';
import { apiCall } from '../dataProvider';
import { Field, fieldProblems, idPart, OutcomeNotice, useAction } from './cms';
import { ordered, type SiteLanguage } from './languages';
import type { MediaRow } from './Media';

/** The languages an available image still has no alt text in. */
export function altMissing(
  row: MediaRow,
  languages: readonly SiteLanguage[],
  defaultLanguage: string | undefined,
): SiteLanguage[] {
  if (row.kind !== 'image' || row.status !== 'available') return [];
  const columns = ordered(languages, defaultLanguage);
  const [head] = columns;
  return columns.filter((l) => {
    if (row.language !== null && l.code !== row.language && l !== head) return false;
    const text = l === head ? row.alt : row.translations?.[l.code]?.alt;
    return !text || text.trim() === '';
  });
}

export function AltText({
  row,
  languages,
  defaultLanguage,
  onSaved,
}: {
  row: MediaRow;
  languages: readonly SiteLanguage[];
  defaultLanguage: string | undefined;
  onSaved: (row: MediaRow) => void;
}) {
  const { t } = useI18n();
  const columns = ordered(languages, defaultLanguage);
  const head = columns[0]?.code ?? '';
  const initial = (field: 'alt' | 'caption') => () =>
    Object.fromEntries(
      columns.map((l) => [l.code, (l.code === head ? row[field] : row.translations?.[l.code]?.[field]) ?? '']),
    );
  const [draft, setDraft] = useState<Record<string, string>>(initial('alt'));
  const [captions, setCaptions] = useState<Record<string, string>>(initial('caption'));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const { busy, outcome, run } = useAction();
  const missing = altMissing(row, languages, defaultLanguage);
  const prefix = `alt-${idPart(row.id)}`;

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setErrors({});
    // Translations are replaced whole: a language not shown here (disabled) keeps what it has;
    // each shown one gets the alt text and caption of the form (blank ones left out).
    const translations: Record<string, { alt?: string; caption?: string }> = {};
    const shown = new Set(columns.map((l) => l.code));
    for (const [lang, v] of Object.entries(row.translations ?? {})) {
      if (!shown.has(lang)) translations[lang] = { ...v };
    }
    for (const l of columns.slice(1)) {
      const alt = (draft[l.code] ?? '').trim();
      const caption = (captions[l.code] ?? '').trim();
      const texts = { ...(alt !== '' ? { alt } : {}), ...(caption !== '' ? { caption } : {}) };
      if (Object.keys(texts).length > 0) translations[l.code] = texts;
    }
    const error = await run(async () => {
      const saved = await apiCall<MediaRow>('PATCH', `/api/media/${encodeURIComponent(row.id)}`, {
        alt: (draft[head] ?? '').trim(),
        caption: (captions[head] ?? '').trim(),
        translations,
      });
      onSaved(saved);
      return t('admin_cms.alt.saved', { name: row.name });
    });
    if (error) setErrors(fieldProblems(error));
  };

  return (
    <details className="cms-alt">
      <summary>
        {missing.length > 0
          ? t('admin_cms.alt.missing_in', { languages: missing.map((l) => l.nativeName).join(', ') })
          : t('admin_cms.alt.edit')}
        <span className="visually-hidden"> ({row.name})</span>
      </summary>
      <form noValidate onSubmit={(e) => void save(e)}>
        {columns.map((l, i) => {
          const path = i === 0 ? 'alt' : `translations.${l.code}.alt`;
          const captionPath = i === 0 ? 'caption' : `translations.${l.code}.caption`;
          return (
            <div key={l.code} className="cms-alt-language">
              <Field
                id={`${prefix}-${idPart(l.code)}`}
                label={t('admin_cms.alt.label', { name: row.name, language: l.nativeName })}
                error={errors[path]}
              >
                {(aria) => (
                  <input
                    {...aria}
                    lang={l.code}
                    value={draft[l.code] ?? ''}
                    onChange={(e) => setDraft((d) => ({ ...d, [l.code]: e.target.value }))}
                    autoComplete="off"
                  />
                )}
              </Field>
              <Field
                id={`${prefix}-caption-${idPart(l.code)}`}
                label={t('admin_cms.alt.caption_label', { name: row.name, language: l.nativeName })}
                error={errors[captionPath]}
              >
                {(aria) => (
                  <input
                    {...aria}
                    lang={l.code}
                    value={captions[l.code] ?? ''}
                    onChange={(e) => setCaptions((d) => ({ ...d, [l.code]: e.target.value }))}
                    autoComplete="off"
                  />
                )}
              </Field>
            </div>
          );
        })}
        <button type="submit" aria-disabled={busy || undefined}>
          {t('admin_cms.alt.save', { name: row.name })}
        </button>
        <OutcomeNotice outcome={outcome} />
      </form>
    </details>
  );
}
