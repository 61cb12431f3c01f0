/**
 * Categories (src/content/categories, docs/CONTENT.md): the site-wide taxonomy. The list with a
 * "New category" form, each category's screen (its name in the site default language and a
 * translation per other enabled language, side by side; delete, with "remove it from every item"
 * when items carry it), new category types, and `CategoriesInput`: the checkboxes a portfolio,
 * project or skill form uses to carry categories (`categoryIds`, in the order ticked).
 *
 * Calls: GET/POST /api/category-types, GET/POST /api/categories, GET/PATCH/DELETE /api/categories/:id.
 */
import { useInput } from 'ra-core';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useI18n } from '../../i18n';
import { apiCall, cleanTranslations } from '../dataProvider';
import { errorText } from '../ui/inputs';
import { Screen, ScreenProblem } from '../ui/Screen';
import { Field, fieldProblems, idPart, OutcomeNotice, problemOf, useAction } from './cms';
import { useSiteLanguages, type SiteLanguage } from './languages';

export interface CategoryType {
  code: string;
  name: string;
  translations: Record<string, Record<string, string>>;
}

export interface Category {
  id: string;
  code: string;
  typeCode: string;
  name: string;
  translations: Record<string, Record<string, string>>;
}

async function loadAll(): Promise<{ types: CategoryType[]; categories: Category[] }> {
  const [types, categories] = await Promise.all([
    apiCall<{ items: CategoryType[] }>('GET', '/api/category-types'),
    apiCall<{ items: Category[] }>('GET', '/api/categories'),
  ]);
  return { types: types.items, categories: categories.items };
}

function useCategories() {
  const [data, setData] = useState<{ types: CategoryType[]; categories: Category[] } | null>(null);
  const [failed, setFailed] = useState(false);
  const reload = useCallback(async () => {
    try {
      setData(await loadAll());
    } catch {
      setFailed(true);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, failed, reload };
}

/** The site default first (its text is the plain `name`), then the other enabled languages. */
function nameColumns(languages: readonly SiteLanguage[]): SiteLanguage[] {
  const head = languages.find((l) => l.isDefault);
  return head ? [head, ...languages.filter((l) => l !== head)] : [...languages];
}

interface Draft {
  code: string;
  typeCode: string;
  names: Record<string, string>;
}

const FIELD_OF_CODE = {
  CATEGORY_EXISTS: 'code',
  UNKNOWN_CATEGORY_TYPE: 'typeCode',
  CATEGORY_TYPE_EXISTS: 'code',
};

/** Code, type and the name per language: the body of a create or a change. */
function bodyOf(draft: Draft, columns: readonly SiteLanguage[]) {
  const [head, ...rest] = columns;
  const translations = cleanTranslations(
    Object.fromEntries(rest.map((l) => [l.code, { name: draft.names[l.code] ?? '' }])),
  );
  return { code: draft.code.trim(), typeCode: draft.typeCode, name: draft.names[head?.code ?? ''] ?? '', translations };
}

function CategoryFields({
  draft,
  setDraft,
  types,
  columns,
  errors,
  prefix,
}: {
  draft: Draft;
  setDraft: (d: Draft) => void;
  types: readonly CategoryType[];
  columns: readonly SiteLanguage[];
  errors: Record<string, string>;
  prefix: string;
}) {
  const { t } = useI18n();
  return (
    <>
      <Field id={`${prefix}-type`} label={t('admin_cms.categories.type')} error={errors['typeCode']}>
        {(aria) => (
          <select {...aria} value={draft.typeCode} onChange={(e) => setDraft({ ...draft, typeCode: e.target.value })}>
            {types.map((ty) => (
              <option key={ty.code} value={ty.code}>
                {ty.name} ({ty.code})
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field
        id={`${prefix}-code`}
        label={t('admin_cms.categories.code')}
        hint={t('admin_cms.categories.code_hint')}
        error={errors['code']}
      >
        {(aria) => (
          <input
            {...aria}
            value={draft.code}
            onChange={(e) => setDraft({ ...draft, code: e.target.value })}
            autoComplete="off"
          />
        )}
      </Field>
      <fieldset className="translations">
        <legend>{t('admin_cms.categories.name')}</legend>
        <div className="translation-grid">
          {columns.map((l, i) => {
            const path = i === 0 ? 'name' : `translations.${l.code}.name`;
            return (
              <Field
                key={l.code}
                id={`${prefix}-name-${idPart(l.code)}`}
                label={`${t('admin_cms.categories.name')} (${l.nativeName})`}
                hint={i === 0 ? t('admin_cms.categories.default_hint') : undefined}
                error={errors[path]}
              >
                {(aria) => (
                  <input
                    {...aria}
                    lang={l.code}
                    value={draft.names[l.code] ?? ''}
                    onChange={(e) => setDraft({ ...draft, names: { ...draft.names, [l.code]: e.target.value } })}
                    autoComplete="off"
                  />
                )}
              </Field>
            );
          })}
        </div>
      </fieldset>
    </>
  );
}

export function CategoryList() {
  const { t } = useI18n();
  const languages = useSiteLanguages();
  const { data, failed, reload } = useCategories();
  const { busy, outcome, run } = useAction();
  const [draft, setDraft] = useState<Draft>({ code: '', typeCode: '', names: {} });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [typeDraft, setTypeDraft] = useState({ code: '', name: '' });
  /** The type's name in the other languages (the plain name is the default language's). */
  const [typeNames, setTypeNames] = useState<Record<string, string>>({});
  const [typeErrors, setTypeErrors] = useState<Record<string, string>>({});
  const title = t('admin_cms.categories.title');
  if (failed) {
    return (
      <Screen title={title}>
        <ScreenProblem message={t('admin.load_failed')} />
      </Screen>
    );
  }
  if (!data || languages === null) {
    return (
      <Screen title={title}>
        <p role="status">{t('admin.loading')}</p>
      </Screen>
    );
  }
  const columns = nameColumns(languages);
  const typeName = (code: string) => data.types.find((ty) => ty.code === code)?.name ?? code;
  const current = { ...draft, typeCode: draft.typeCode || (data.types[0]?.code ?? '') };

  const create = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setErrors({});
    const error = await run(async () => {
      const created = await apiCall<Category>('POST', '/api/categories', bodyOf(current, columns));
      setDraft({ code: '', typeCode: current.typeCode, names: {} });
      await reload();
      return t('admin_cms.categories.created', { name: created.name });
    });
    if (error) setErrors(fieldProblems(error, FIELD_OF_CODE));
  };

  const createType = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setTypeErrors({});
    const error = await run(async () => {
      const created = await apiCall<CategoryType>('POST', '/api/category-types', {
        code: typeDraft.code.trim(),
        name: typeDraft.name,
        translations: cleanTranslations(
          Object.fromEntries(columns.slice(1).map((l) => [l.code, { name: typeNames[l.code] ?? '' }])),
        ),
      });
      setTypeDraft({ code: '', name: '' });
      setTypeNames({});
      await reload();
      return t('admin_cms.categories.type_created', { name: created.name });
    });
    if (error) setTypeErrors(fieldProblems(error, FIELD_OF_CODE));
  };

  return (
    <Screen title={title}>
      <OutcomeNotice outcome={outcome} />
      {data.categories.length === 0 ? (
        <p>{t('admin_cms.categories.empty')}</p>
      ) : (
        <div className="table-wrap">
          <table className="admin-table">
            <caption>{title}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin_cms.categories.name')}</th>
                <th scope="col">{t('admin_cms.categories.type')}</th>
                <th scope="col">{t('admin_cms.categories.code')}</th>
                <th scope="col">{t('admin_cms.categories.translations')}</th>
              </tr>
            </thead>
            <tbody>
              {data.categories.map((c) => (
                <tr key={c.id}>
                  <th scope="row">
                    <Link to={`/admin/categories/${encodeURIComponent(c.id)}`}>{c.name}</Link>
                  </th>
                  <td>{typeName(c.typeCode)}</td>
                  <td>{c.code}</td>
                  <td>
                    {Object.entries(c.translations)
                      .map(([lang, v]) => `${lang}: ${v['name'] ?? ''}`)
                      .join(' · ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <section aria-labelledby="category-new-title" className="admin-card">
        <h2 id="category-new-title">{t('admin_cms.categories.new')}</h2>
        <form noValidate onSubmit={(e) => void create(e)} className="cms-form">
          <CategoryFields
            draft={current}
            setDraft={setDraft}
            types={data.types}
            columns={columns}
            errors={errors}
            prefix="category-new"
          />
          <button type="submit" className="primary" aria-disabled={busy || undefined}>
            {t('admin_cms.categories.create')}
          </button>
        </form>
      </section>
      <section aria-labelledby="category-type-title" className="admin-card">
        <h2 id="category-type-title">{t('admin_cms.categories.new_type')}</h2>
        <form noValidate onSubmit={(e) => void createType(e)} className="cms-form">
          <Field id="category-type-code" label={t('admin_cms.categories.type_code')} error={typeErrors['code']}>
            {(aria) => (
              <input
                {...aria}
                value={typeDraft.code}
                onChange={(e) => setTypeDraft({ ...typeDraft, code: e.target.value })}
                autoComplete="off"
              />
            )}
          </Field>
          <Field id="category-type-name" label={t('admin_cms.categories.type_name')} error={typeErrors['name']}>
            {(aria) => (
              <input
                {...aria}
                value={typeDraft.name}
                onChange={(e) => setTypeDraft({ ...typeDraft, name: e.target.value })}
                autoComplete="off"
              />
            )}
          </Field>
          {columns.slice(1).map((l) => (
            <Field
              key={l.code}
              id={`category-type-name-${idPart(l.code)}`}
              label={t('admin_cms.categories.type_name_in', { language: l.nativeName })}
              error={typeErrors[`translations.${l.code}.name`]}
            >
              {(aria) => (
                <input
                  {...aria}
                  lang={l.code}
                  value={typeNames[l.code] ?? ''}
                  onChange={(e) => setTypeNames((n) => ({ ...n, [l.code]: e.target.value }))}
                  autoComplete="off"
                />
              )}
            </Field>
          ))}
          <button type="submit" aria-disabled={busy || undefined}>
            {t('admin_cms.categories.create_type')}
          </button>
        </form>
      </section>
    </Screen>
  );
}

export function CategoryEdit() {
  const { t } = useI18n();
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const languages = useSiteLanguages();
  const { data, failed, reload } = useCategories();
  const { busy, outcome, run } = useAction();
  const [draft, setDraft] = useState<Draft | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [inUse, setInUse] = useState(false);
  const category = data?.categories.find((c) => c.id === id);
  useEffect(() => {
    if (category && draft === null) {
      const names: Record<string, string> = {};
      const head = languages?.find((l) => l.isDefault)?.code ?? '';
      names[head] = category.name;
      for (const [lang, v] of Object.entries(category.translations)) names[lang] = v['name'] ?? '';
      if (languages !== null) setDraft({ code: category.code, typeCode: category.typeCode, names });
    }
  }, [category, draft, languages]);
  const fallbackTitle = t('admin_cms.categories.edit');
  if (failed || (data && !category)) {
    return (
      <Screen title={fallbackTitle}>
        <ScreenProblem message={t('admin.load_failed')} />
      </Screen>
    );
  }
  if (!data || !category || languages === null || draft === null) {
    return (
      <Screen title={fallbackTitle}>
        <p role="status">{t('admin.loading')}</p>
      </Screen>
    );
  }
  const columns = nameColumns(languages);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setErrors({});
    const error = await run(async () => {
      const saved = await apiCall<Category>(
        'PATCH',
        `/api/categories/${encodeURIComponent(category.id)}`,
        bodyOf(draft, columns),
      );
      await reload();
      return t('admin_cms.categories.saved', { name: saved.name });
    });
    if (error) setErrors(fieldProblems(error, FIELD_OF_CODE));
  };
  const remove = async (force: boolean) => {
    setInUse(false);
    const error = await run(async () => {
      await apiCall('DELETE', `/api/categories/${encodeURIComponent(category.id)}${force ? '?force=true' : ''}`);
      void navigate('/admin/categories');
      return t('admin_cms.categories.deleted', { name: category.name });
    });
    if (problemOf(error)?.code === 'CATEGORY_IN_USE') setInUse(true);
  };
  return (
    <Screen title={t('admin_cms.categories.edit_named', { name: category.name })}>
      <p>
        <Link to="/admin/categories">{t('admin_cms.categories.back')}</Link>
      </p>
      <OutcomeNotice outcome={outcome} />
      <form noValidate onSubmit={(e) => void save(e)} className="cms-form admin-card">
        <CategoryFields
          draft={draft}
          setDraft={setDraft}
          types={data.types}
          columns={columns}
          errors={errors}
          prefix="category"
        />
        <button type="submit" className="primary" aria-disabled={busy || undefined}>
          {t('admin.action.save')}
        </button>
      </form>
      <p className="admin-actions">
        <button type="button" onClick={() => void remove(false)} aria-disabled={busy || undefined}>
          {t('admin.action.delete_named', { title: category.name })}
        </button>
        {inUse ? (
          <button type="button" className="danger" onClick={() => void remove(true)}>
            {t('admin_cms.categories.force_delete', { name: category.name })}
          </button>
        ) : null}
      </p>
    </Screen>
  );
}

/**
 * `categoryIds` of the record in an ra-core form: one checkbox per category, grouped by type. The
 * order kept is the record's, with newly ticked ones at the end (the API keeps the given order).
 */
export function CategoriesInput() {
  const { t } = useI18n();
  const { data } = useCategories();
  const { field, fieldState } = useInput({ source: 'categoryIds' });
  const value: string[] = Array.isArray(field.value) ? (field.value as string[]) : [];
  const error = errorText(t, fieldState.error?.message);
  if (!data) return <p>{t('admin.loading')}</p>;
  const toggle = (id: string, on: boolean) =>
    field.onChange(on ? [...value.filter((v) => v !== id), id] : value.filter((v) => v !== id));
  return (
    <fieldset
      className={`cms-checks${error ? ' has-error' : ''}`}
      aria-describedby={error ? 'field-categoryIds-error' : undefined}
    >
      <legend>{t('admin_cms.categories.title')}</legend>
      {data.categories.length === 0 ? <p className="hint">{t('admin_cms.categories.none_yet')}</p> : null}
      {data.types.map((ty) => {
        const own = data.categories.filter((c) => c.typeCode === ty.code);
        if (own.length === 0) return null;
        return (
          <div key={ty.code} className="cms-check-group" role="group" aria-label={ty.name}>
            <p className="cms-check-group-name">{ty.name}</p>
            {own.map((c) => {
              const id = `category-${idPart(c.id)}`;
              return (
                <div key={c.id} className="check">
                  <input
                    id={id}
                    type="checkbox"
                    checked={value.includes(c.id)}
                    onChange={(e) => toggle(c.id, e.target.checked)}
                  />
                  <label htmlFor={id}>{c.name}</label>
                </div>
              );
            })}
          </div>
        );
      })}
      {error ? (
        <p id="field-categoryIds-error" className="field-error">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}
