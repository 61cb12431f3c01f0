/**
 * Site languages (src/content/languages, docs/CONTENT.md): every language with its state, add one,
 * rename it, enable or disable it, make it the default, set its fallback chain, delete it (with its
 * translations everywhere when content uses it). The API's rules (the default cannot be disabled,
 * a language others fall back to, one a portfolio is written in, a role's language, the default
 * switch's lock) come back as problems, said in plain words.
 *
 * Calls: GET/POST /api/admin/languages, PATCH/DELETE /api/admin/languages/:code.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useI18n } from '../../i18n';
import { apiCall } from '../dataProvider';
import { Screen, ScreenProblem } from '../ui/Screen';
import { Field, fieldProblems, idPart, OutcomeNotice, problemOf, useAction } from './cms';
import { forgetSiteLanguages } from './languages';

export interface AdminLanguage {
  code: string;
  name: string;
  nativeName: string;
  enabled: boolean;
  isDefault: boolean;
  fallback: string[];
}

const splitCodes = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

export function SiteLanguagesScreen() {
  const { t } = useI18n();
  const [languages, setLanguages] = useState<AdminLanguage[] | null>(null);
  const [loadFailed, setLoadFailed] = useState(false);
  const { busy, outcome, run } = useAction();
  const [code, setCode] = useState('');
  const [enabled, setEnabled] = useState(true);
  const [addErrors, setAddErrors] = useState<Record<string, string>>({});
  const [fallbacks, setFallbacks] = useState<Record<string, string>>({});
  const [fallbackErrors, setFallbackErrors] = useState<Record<string, string>>({});
  const [inUse, setInUse] = useState<string | null>(null);
  const [names, setNames] = useState<Record<string, { name: string; nativeName: string }>>({});
  const [nameErrors, setNameErrors] = useState<Record<string, Record<string, string>>>({});

  const load = useCallback(async () => {
    try {
      const items = (await apiCall<{ items: AdminLanguage[] }>('GET', '/api/admin/languages')).items;
      setLanguages(items);
      setFallbacks(Object.fromEntries(items.map((l) => [l.code, l.fallback.join(', ')])));
      setNames(Object.fromEntries(items.map((l) => [l.code, { name: l.name, nativeName: l.nativeName }])));
    } catch {
      setLoadFailed(true);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const changed = async () => {
    forgetSiteLanguages();
    await load();
  };

  const add = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setAddErrors({});
    if (code.trim() === '') {
      setAddErrors({ code: t('field.required') });
      return;
    }
    const error = await run(async () => {
      const created = await apiCall<AdminLanguage>('POST', '/api/admin/languages', { code: code.trim(), enabled });
      setCode('');
      await changed();
      return t('admin_cms.languages.added', { name: created.nativeName });
    });
    if (error) {
      setAddErrors(fieldProblems(error, { INVALID_LANGUAGE_TAG: 'code', LANGUAGE_EXISTS: 'code' }));
    }
  };

  const patch = (language: AdminLanguage, body: Partial<AdminLanguage>, done: string) =>
    run(async () => {
      await apiCall('PATCH', `/api/admin/languages/${encodeURIComponent(language.code)}`, body);
      await changed();
      return done;
    });

  const saveFallback = async (language: AdminLanguage) => {
    setFallbackErrors((e) => ({ ...e, [language.code]: '' }));
    const error = await patch(
      language,
      { fallback: splitCodes(fallbacks[language.code] ?? '') },
      t('admin_cms.languages.fallback_saved', { name: language.nativeName }),
    );
    if (error) {
      const problem = problemOf(error);
      const message =
        problem?.code === 'LANGUAGE_FALLBACK_CYCLE' || problem?.code === 'LANGUAGE_NOT_ENABLED'
          ? t(`admin_cms.error.${problem.code}`)
          : (Object.values(fieldProblems(error))[0] ?? '');
      setFallbackErrors((e) => ({ ...e, [language.code]: message }));
    }
  };

  const saveNames = async (language: AdminLanguage) => {
    setNameErrors((e) => ({ ...e, [language.code]: {} }));
    const draft = names[language.code] ?? { name: language.name, nativeName: language.nativeName };
    const body = { name: draft.name.trim(), nativeName: draft.nativeName.trim() };
    const error = await patch(language, body, t('admin_cms.languages.renamed', { name: body.nativeName }));
    if (error) setNameErrors((e) => ({ ...e, [language.code]: fieldProblems(error) }));
  };

  const remove = async (language: AdminLanguage, force: boolean) => {
    setInUse(null);
    const error = await run(async () => {
      await apiCall('DELETE', `/api/admin/languages/${encodeURIComponent(language.code)}${force ? '?force=true' : ''}`);
      await changed();
      return t('admin_cms.languages.deleted', { name: language.nativeName });
    });
    if (problemOf(error)?.code === 'LANGUAGE_IN_USE') setInUse(language.code);
  };

  const title = t('admin_cms.languages.title');
  if (loadFailed) {
    return (
      <Screen title={title}>
        <ScreenProblem message={t('admin.load_failed')} />
      </Screen>
    );
  }
  return (
    <Screen title={title}>
      <p>{t('admin_cms.languages.intro')}</p>
      <OutcomeNotice outcome={outcome} />
      {languages === null ? (
        <p role="status">{t('admin.loading')}</p>
      ) : (
        <div className="table-wrap">
          <table className="admin-table cms-languages">
            <caption>{title}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin_cms.languages.language')}</th>
                <th scope="col">{t('admin_cms.languages.state')}</th>
                <th scope="col">{t('admin_cms.languages.fallback')}</th>
                <th scope="col">{t('admin.media.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {languages.map((l) => {
                const fallbackId = `language-fallback-${idPart(l.code)}`;
                const label = `${l.nativeName} (${l.code})`;
                return (
                  <tr key={l.code} data-language={l.code}>
                    <th scope="row" lang={l.code}>
                      {label}
                      <span className="hint"> {l.name}</span>
                    </th>
                    <td>
                      {l.enabled ? t('admin_cms.languages.enabled') : t('admin_cms.languages.disabled')}
                      {l.isDefault ? ` · ${t('admin_cms.languages.default')}` : ''}
                    </td>
                    <td>
                      <form
                        className="cms-inline-form"
                        noValidate
                        onSubmit={(e) => {
                          e.preventDefault();
                          void saveFallback(l);
                        }}
                      >
                        <Field
                          id={fallbackId}
                          label={t('admin_cms.languages.fallback_of', { name: l.nativeName })}
                          hint={t('admin_cms.languages.fallback_hint')}
                          error={fallbackErrors[l.code] || undefined}
                        >
                          {(aria) => (
                            <input
                              {...aria}
                              value={fallbacks[l.code] ?? ''}
                              onChange={(e) => setFallbacks((f) => ({ ...f, [l.code]: e.target.value }))}
                              autoComplete="off"
                            />
                          )}
                        </Field>
                        <button type="submit" aria-disabled={busy || undefined}>
                          {t('admin_cms.languages.save_fallback', { name: l.nativeName })}
                        </button>
                      </form>
                    </td>
                    <td className="cms-actions">
                      {l.isDefault ? null : (
                        <button
                          type="button"
                          aria-disabled={busy || undefined}
                          onClick={() =>
                            void patch(
                              l,
                              { isDefault: true },
                              t('admin_cms.languages.default_set', { name: l.nativeName }),
                            )
                          }
                        >
                          {t('admin_cms.languages.make_default', { name: l.nativeName })}
                        </button>
                      )}
                      <button
                        type="button"
                        aria-disabled={busy || undefined}
                        onClick={() =>
                          void patch(
                            l,
                            { enabled: !l.enabled },
                            t(l.enabled ? 'admin_cms.languages.disabled_now' : 'admin_cms.languages.enabled_now', {
                              name: l.nativeName,
                            }),
                          )
                        }
                      >
                        {t(l.enabled ? 'admin_cms.languages.disable' : 'admin_cms.languages.enable', {
                          name: l.nativeName,
                        })}
                      </button>
                      <button type="button" aria-disabled={busy || undefined} onClick={() => void remove(l, false)}>
                        {t('admin.action.delete_named', { title: l.nativeName })}
                      </button>
                      {inUse === l.code ? (
                        <button type="button" className="danger" onClick={() => void remove(l, true)}>
                          {t('admin_cms.languages.force_delete', { name: l.nativeName })}
                        </button>
                      ) : null}
                      <details className="cms-rename">
                        <summary>{t('admin_cms.languages.rename', { code: l.code })}</summary>
                        <form
                          className="cms-inline-form"
                          noValidate
                          onSubmit={(e) => {
                            e.preventDefault();
                            void saveNames(l);
                          }}
                        >
                          {(['name', 'nativeName'] as const).map((field) => (
                            <Field
                              key={field}
                              id={`language-${field}-${idPart(l.code)}`}
                              label={t(`admin_cms.languages.${field}_of`, { code: l.code })}
                              error={nameErrors[l.code]?.[field]}
                            >
                              {(aria) => (
                                <input
                                  {...aria}
                                  value={names[l.code]?.[field] ?? ''}
                                  onChange={(e) =>
                                    setNames((n) => ({
                                      ...n,
                                      [l.code]: {
                                        name: n[l.code]?.name ?? l.name,
                                        nativeName: n[l.code]?.nativeName ?? l.nativeName,
                                        [field]: e.target.value,
                                      },
                                    }))
                                  }
                                  autoComplete="off"
                                />
                              )}
                            </Field>
                          ))}
                          <button type="submit" aria-disabled={busy || undefined}>
                            {t('admin_cms.languages.save_names', { code: l.code })}
                          </button>
                        </form>
                      </details>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <section aria-labelledby="language-add-title" className="admin-card">
        <h2 id="language-add-title">{t('admin_cms.languages.add_title')}</h2>
        <form noValidate onSubmit={(e) => void add(e)} className="cms-form">
          <Field
            id="language-code"
            label={t('admin_cms.languages.code')}
            hint={t('admin_cms.languages.code_hint')}
            error={addErrors['code']}
          >
            {(aria) => <input {...aria} value={code} onChange={(e) => setCode(e.target.value)} autoComplete="off" />}
          </Field>
          <div className="check">
            <input
              id="language-enabled"
              type="checkbox"
              checked={enabled}
              onChange={(e) => setEnabled(e.target.checked)}
            />
            <label htmlFor="language-enabled">{t('admin_cms.languages.enabled_for_visitors')}</label>
          </div>
          <button type="submit" className="primary" aria-disabled={busy || undefined}>
            {t('admin_cms.languages.add')}
          </button>
        </form>
      </section>
    </Screen>
  );
}
