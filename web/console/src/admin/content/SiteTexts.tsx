/**
 * Site texts (src/content/texts, docs/CONTENT.md): the website's own strings, one row per key with
 * its text in each enabled language side by side; "Save" replaces the key's texts with what is
 * typed (an empty box: no text in that language), a new key, delete, a prefix filter, and
 * "Show more" through the API's pages.
 *
 * Import and export: one language's texts as an i18next JSON file (merged, or replacing that
 * language's texts), the file made in the page (account/download.ts).
 *
 * Calls: GET /api/admin/texts?prefix=&limit=&cursor=, PUT /api/admin/texts/:key, DELETE /api/admin/texts/:key,
 * GET /api/admin/texts/export?lang=, PUT /api/admin/texts/import?lang=&mode=.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { downloadText } from '../../account/download';
import { useI18n } from '../../i18n';
import { apiCall } from '../dataProvider';
import { Screen, ScreenProblem } from '../ui/Screen';
import { Field, fieldProblems, idPart, OutcomeNotice, problemOf, useAction } from './cms';
import { useSiteLanguages, type SiteLanguage } from './languages';

interface SiteText {
  key: string;
  translations: Record<string, string>;
}

const PAGE = 50;

function nonEmpty(texts: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(texts).filter(([, v]) => v.trim() !== ''));
}

function TextRow({
  text,
  languages,
  onSaved,
  onDeleted,
}: {
  text: SiteText;
  languages: readonly SiteLanguage[];
  onSaved: (t: SiteText) => void;
  onDeleted: (key: string) => void;
}) {
  const { t } = useI18n();
  const [draft, setDraft] = useState<Record<string, string>>(text.translations);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const { busy, outcome, run } = useAction();
  const prefix = `text-${idPart(text.key)}`;
  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setErrors({});
    const translations = nonEmpty(draft);
    if (Object.keys(translations).length === 0) {
      setErrors({ [`translations.${languages[0]?.code ?? ''}`]: t('admin_cms.texts.one_needed') });
      return;
    }
    const error = await run(async () => {
      const saved = await apiCall<SiteText>('PUT', `/api/admin/texts/${encodeURIComponent(text.key)}`, {
        translations,
      });
      onSaved(saved);
      return t('admin_cms.texts.saved', { key: text.key });
    });
    if (error) setErrors(fieldProblems(error));
  };
  const remove = async () => {
    await run(async () => {
      await apiCall('DELETE', `/api/admin/texts/${encodeURIComponent(text.key)}`);
      onDeleted(text.key);
      return t('admin_cms.texts.deleted', { key: text.key });
    });
  };
  return (
    <li className="admin-card cms-text">
      <form noValidate onSubmit={(e) => void save(e)} aria-labelledby={`${prefix}-key`}>
        <h2 id={`${prefix}-key`} className="cms-text-key">
          <code>{text.key}</code>
        </h2>
        <div className="translation-grid">
          {languages.map((l) => (
            <Field
              key={l.code}
              id={`${prefix}-${idPart(l.code)}`}
              label={`${text.key} (${l.nativeName})`}
              error={errors[`translations.${l.code}`]}
            >
              {(aria) => (
                <textarea
                  {...aria}
                  lang={l.code}
                  rows={2}
                  value={draft[l.code] ?? ''}
                  onChange={(e) => setDraft((d) => ({ ...d, [l.code]: e.target.value }))}
                />
              )}
            </Field>
          ))}
        </div>
        <p className="admin-actions">
          <button type="submit" className="primary" aria-disabled={busy || undefined}>
            {t('admin_cms.texts.save_named', { key: text.key })}
          </button>
          <button type="button" onClick={() => void remove()} aria-disabled={busy || undefined}>
            {t('admin.action.delete_named', { title: text.key })}
          </button>
        </p>
        <OutcomeNotice outcome={outcome} />
      </form>
    </li>
  );
}

/** One language's texts as an i18next JSON file: download, or upload (merge or replace). */
function ImportExport({ languages, onImported }: { languages: readonly SiteLanguage[]; onImported: () => void }) {
  const { t } = useI18n();
  const [lang, setLang] = useState(languages[0]?.code ?? '');
  const [replace, setReplace] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [fileError, setFileError] = useState<string | undefined>();
  const fileInput = useRef<HTMLInputElement>(null);
  const { busy, outcome, run } = useAction();
  const exportFile = () =>
    void run(async () => {
      const texts = await apiCall<unknown>('GET', `/api/admin/texts/export?lang=${encodeURIComponent(lang)}`);
      downloadText(`${lang}.json`, `${JSON.stringify(texts, null, 2)}\n`);
      return t('admin_cms.texts.exported', { lang });
    });
  const importFile = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setFileError(undefined);
    if (!file) {
      setFileError(t('admin.media.choose_file'));
      fileInput.current?.focus();
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(await file.text());
    } catch {
      setFileError(t('admin_cms.texts.not_json'));
      return;
    }
    const mode = replace ? 'replace' : 'merge';
    const error = await run(async () => {
      const result = await apiCall<{ keys: number; written: number; removed: number }>(
        'PUT',
        `/api/admin/texts/import?lang=${encodeURIComponent(lang)}&mode=${mode}`,
        body,
      );
      onImported();
      return t('admin_cms.texts.imported', { written: result.written, removed: result.removed });
    });
    const problem = problemOf(error);
    if (problem) {
      const lines = problem.errors.slice(0, 5).map((e) => `${e.path}: ${e.message}`);
      setFileError(lines.length > 0 ? lines.join('; ') : problem.detail || problem.code);
    }
  };
  return (
    <section aria-labelledby="texts-file-title" className="admin-card">
      <h2 id="texts-file-title">{t('admin_cms.texts.file_title')}</h2>
      <form noValidate onSubmit={(e) => void importFile(e)} className="cms-form">
        <Field id="texts-file-language" label={t('admin_cms.texts.file_language')}>
          {(aria) => (
            <select {...aria} value={lang} onChange={(e) => setLang(e.target.value)}>
              {languages.map((l) => (
                <option key={l.code} value={l.code}>
                  {l.nativeName}
                </option>
              ))}
            </select>
          )}
        </Field>
        <p>
          <button type="button" onClick={exportFile} aria-disabled={busy || undefined}>
            {t('admin_cms.texts.export')}
          </button>
        </p>
        <Field id="texts-file" label={t('admin_cms.texts.file')} error={fileError}>
          {(aria) => (
            <input
              {...aria}
              ref={fileInput}
              type="file"
              accept="application/json,.json"
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            />
          )}
        </Field>
        <div className="check">
          <input id="texts-replace" type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} />
          <label htmlFor="texts-replace">{t('admin_cms.texts.replace')}</label>
        </div>
        <button type="submit" aria-disabled={busy || undefined}>
          {t('admin_cms.texts.import')}
        </button>
      </form>
      <OutcomeNotice outcome={outcome} />
    </section>
  );
}

export function SiteTextsScreen() {
  const { t } = useI18n();
  const languages = useSiteLanguages();
  const [texts, setTexts] = useState<SiteText[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const [prefix, setPrefix] = useState('');
  const [applied, setApplied] = useState('');
  const [newKey, setNewKey] = useState('');
  const [newErrors, setNewErrors] = useState<Record<string, string>>({});
  const { outcome, setOutcome } = useAction();

  const load = useCallback(async (filter: string, cursor: string | null) => {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (filter !== '') params.set('prefix', filter);
    if (cursor) params.set('cursor', cursor);
    try {
      const page = await apiCall<{ items: SiteText[]; nextCursor: string | null }>(
        'GET',
        `/api/admin/texts?${params.toString()}`,
      );
      setTexts((current) => (cursor ? [...(current ?? []), ...page.items] : page.items));
      setNext(page.nextCursor);
    } catch {
      setFailed(true);
    }
  }, []);
  useEffect(() => {
    void load(applied, null);
  }, [load, applied]);

  const title = t('admin_cms.texts.title');
  if (failed) {
    return (
      <Screen title={title}>
        <ScreenProblem message={t('admin.load_failed')} />
      </Screen>
    );
  }
  if (texts === null || languages === null) {
    return (
      <Screen title={title}>
        <p role="status">{t('admin.loading')}</p>
      </Screen>
    );
  }
  const addKey = (event: FormEvent) => {
    event.preventDefault();
    const key = newKey.trim();
    setNewErrors({});
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(key)) {
      setNewErrors({ key: t('admin_cms.texts.key_invalid') });
      return;
    }
    if (!texts.some((x) => x.key === key)) setTexts([{ key, translations: {} }, ...texts]);
    setNewKey('');
    setOutcome({ kind: 'ok', text: t('admin_cms.texts.key_added', { key }) });
  };
  return (
    <Screen title={title}>
      <p>{t('admin_cms.texts.intro')}</p>
      <OutcomeNotice outcome={outcome} />
      <div className="cms-toolbar">
        <form
          noValidate
          className="cms-inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            setApplied(prefix.trim());
          }}
        >
          <Field id="texts-prefix" label={t('admin_cms.texts.prefix')}>
            {(aria) => (
              <input {...aria} value={prefix} onChange={(e) => setPrefix(e.target.value)} autoComplete="off" />
            )}
          </Field>
          <button type="submit">{t('admin_cms.texts.filter')}</button>
        </form>
        <form noValidate className="cms-inline-form" onSubmit={addKey}>
          <Field
            id="texts-new-key"
            label={t('admin_cms.texts.new_key')}
            hint={t('admin_cms.texts.key_hint')}
            error={newErrors['key']}
          >
            {(aria) => (
              <input {...aria} value={newKey} onChange={(e) => setNewKey(e.target.value)} autoComplete="off" />
            )}
          </Field>
          <button type="submit">{t('admin_cms.texts.add_key')}</button>
        </form>
      </div>
      {texts.length === 0 ? (
        <p>{t('admin_cms.texts.empty')}</p>
      ) : (
        <ul className="cms-text-list">
          {texts.map((x) => (
            <TextRow
              key={x.key}
              text={x}
              languages={languages}
              onSaved={(saved) => setTexts((cur) => (cur ?? []).map((c) => (c.key === saved.key ? saved : c)))}
              onDeleted={(key) => setTexts((cur) => (cur ?? []).filter((c) => c.key !== key))}
            />
          ))}
        </ul>
      )}
      {next ? (
        <p>
          <button type="button" onClick={() => void load(applied, next)}>
            {t('admin_cms.texts.more')}
          </button>
        </p>
      ) : null}
      <ImportExport languages={languages} onImported={() => void load(applied, null)} />
    </Screen>
  );
}
