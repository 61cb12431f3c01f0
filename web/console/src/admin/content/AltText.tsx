/**
 * An image's alt text per language (docs/CONTENT.md "Media everywhere"): the plain `alt` is in the
 * portfolio's language, the others in `translations.<lang>.alt` (captions kept as they are). The
 * languages still without one are said in the row, as the missing-translation report lists them:
 * an image for one language needs it in that language and the portfolio's.
 *
 * Calls: PATCH /api/media/:id {alt, translations}.
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
  const initial = () =>
    Object.fromEntries(
      columns.map((l) => [l.code, (l.code === head ? row.alt : row.translations?.[l.code]?.alt) ?? '']),
    );
  const [draft, setDraft] = useState<Record<string, string>>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const { busy, outcome, run } = useAction();
  const missing = altMissing(row, languages, defaultLanguage);
  const prefix = `alt-${idPart(row.id)}`;

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setErrors({});
    // Translations are replaced whole: keep every caption, set or drop each language's alt.
    const translations: Record<string, { alt?: string; caption?: string }> = {};
    const shown = new Set(columns.map((l) => l.code));
    for (const [lang, v] of Object.entries(row.translations ?? {})) {
      // A language not shown here (disabled) keeps its alt text too.
      const kept = shown.has(lang) ? { ...(v.caption ? { caption: v.caption } : {}) } : { ...v };
      if (Object.keys(kept).length > 0) translations[lang] = kept;
    }
    for (const l of columns.slice(1)) {
      const alt = (draft[l.code] ?? '').trim();
      if (alt !== '') translations[l.code] = { ...translations[l.code], alt };
    }
    const error = await run(async () => {
      const saved = await apiCall<MediaRow>('PATCH', `/api/media/${encodeURIComponent(row.id)}`, {
        alt: (draft[head] ?? '').trim(),
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
          return (
            <Field
              key={l.code}
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
