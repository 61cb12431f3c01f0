/**
 * Portfolios: the list, the create form, and the edit screen that holds everything of one
 * portfolio (texts side by side per language, publication and visibility, the content kinds with
 * their order, media and resumes, preview links).
 */
import {
  CreateContextProvider,
  EditContextProvider,
  Form,
  ListContextProvider,
  useCreateController,
  useCreatePath,
  useEditController,
  useListController,
  useNotify,
  useRefresh,
  type RaRecord,
} from 'ra-core';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useI18n } from '../../i18n';
import { apiCall, CHILD_KINDS } from '../dataProvider';
import { FormProblem, SaveButton } from '../ui/form';
import { SelectInput, TextInput } from '../ui/inputs';
import { ListTable } from '../ui/list';
import { Screen, ScreenProblem } from '../ui/Screen';
import { ChildList } from './ChildList';
import { TranslatedField } from './fields';
import { ordered, useSiteLanguages, type SiteLanguage } from './languages';
import { MediaPanel } from './Media';
import { PreviewLinks } from './PreviewLinks';
import { CategoriesInput } from './Categories';
import { SchedulePanel } from './Schedule';

export interface PortfolioRecord extends RaRecord {
  id: string;
  slug: string;
  title: string;
  summary: string;
  visibility: 'public' | 'private';
  published: boolean;
  defaultLanguage: string;
  isDefault: boolean;
  translations: Record<string, Record<string, string>>;
  publishAt?: string | null;
  unpublishAt?: string | null;
  categoryIds?: string[];
}

export function PortfolioList() {
  const { t } = useI18n();
  const createPath = useCreatePath();
  const list = useListController<PortfolioRecord>({ resource: 'portfolios', perPage: 20 });
  return (
    <ListContextProvider value={list}>
      <Screen
        title={t('admin.portfolios.title')}
        actions={
          <Link className="button-link" to={createPath({ resource: 'portfolios', type: 'create' })}>
            {t('admin.portfolios.create')}
          </Link>
        }
      >
        <ListTable<PortfolioRecord>
          caption={t('admin.portfolios.caption')}
          empty={t('admin.portfolios.empty')}
          columns={[
            {
              key: 'title',
              label: t('admin.field.title'),
              render: (p) => <Link to={createPath({ resource: 'portfolios', type: 'edit', id: p.id })}>{p.title}</Link>,
            },
            { key: 'slug', label: t('admin.field.slug'), render: (p) => p.slug },
            { key: 'visibility', label: t('admin.field.visibility'), render: (p) => t(`admin.choice.${p.visibility}`) },
            {
              key: 'published',
              label: t('admin.field.published'),
              render: (p) => (p.published ? t('admin.state.published') : t('admin.state.draft')),
            },
            { key: 'defaultLanguage', label: t('admin.field.defaultLanguage'), render: (p) => p.defaultLanguage },
          ]}
        />
      </Screen>
    </ListContextProvider>
  );
}

/** The portfolio's own fields: texts per language, slug, visibility, default language. */
function PortfolioFields({
  languages,
  defaultLanguage,
}: {
  languages: SiteLanguage[];
  defaultLanguage: string | undefined;
}) {
  const { t } = useI18n();
  const columns = ordered(languages, defaultLanguage);
  return (
    <>
      <TranslatedField field={{ name: 'title', type: 'text', required: true }} languages={columns} />
      <TranslatedField field={{ name: 'summary', type: 'textarea' }} languages={columns} />
      <TextInput source="slug" label={t('admin.field.slug')} required hint={t('admin.hint.slug')} />
      <SelectInput
        source="visibility"
        label={t('admin.field.visibility')}
        choices={[
          { id: 'public', name: t('admin.choice.public') },
          { id: 'private', name: t('admin.choice.private') },
        ]}
      />
    </>
  );
}

export function PortfolioCreate() {
  const { t } = useI18n();
  const languages = useSiteLanguages();
  const controller = useCreateController({ resource: 'portfolios', redirect: 'edit' });
  const siteDefault = languages?.find((l) => l.isDefault)?.code;
  return (
    <CreateContextProvider value={controller}>
      <Screen title={t('admin.portfolios.create')}>
        {languages === null ? (
          <p role="status">{t('admin.loading')}</p>
        ) : (
          <Form record={{ visibility: 'private', ...(siteDefault ? { defaultLanguage: siteDefault } : {}) }} noValidate>
            <FormProblem />
            <PortfolioFields languages={languages} defaultLanguage={siteDefault} />
            <SaveButton label={t('admin.action.create')} />
          </Form>
        )}
      </Screen>
    </CreateContextProvider>
  );
}

export function PortfolioEdit() {
  const { t } = useI18n();
  const { id } = useParams();
  const languages = useSiteLanguages();
  const controller = useEditController<PortfolioRecord>({
    resource: 'portfolios',
    id,
    mutationMode: 'pessimistic',
    redirect: false,
  });
  const { record, isPending, error } = controller;
  if (isPending || languages === null) {
    return (
      <Screen title={t('admin.portfolios.edit')}>
        <p role="status">{t('admin.loading')}</p>
      </Screen>
    );
  }
  if (error || !record) {
    return (
      <Screen title={t('admin.portfolios.edit')}>
        <ScreenProblem message={t('admin.load_failed')} />
      </Screen>
    );
  }
  return (
    <EditContextProvider value={controller}>
      <Screen title={t('admin.portfolios.edit_named', { title: record.title })}>
        <PublishBar record={record} />
        <SchedulePanel kind="portfolios" record={record} />
        <section aria-labelledby="details-title" className="admin-card">
          <h2 id="details-title">{t('admin.portfolios.details')}</h2>
          <Form noValidate>
            <FormProblem />
            <PortfolioFields languages={languages} defaultLanguage={record.defaultLanguage} />
            <CategoriesInput />
            <SaveButton />
          </Form>
        </section>
        {CHILD_KINDS.map((kind) => (
          <ChildList key={kind} kind={kind} portfolio={record} />
        ))}
        <MediaPanel
          parent="portfolio"
          parentId={record.id}
          languages={languages}
          slug={record.slug}
          defaultLanguage={record.defaultLanguage}
        />
        <PreviewLinks portfolioId={record.id} />
      </Screen>
    </EditContextProvider>
  );
}

/** Publication state, the one-press publish/unpublish, and the public read when visitors can see it. */
function PublishBar({ record }: { record: PortfolioRecord }) {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefresh();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const toggle = async () => {
    if (busy) return;
    setBusy(true);
    setProblem(null);
    try {
      await apiCall('PATCH', `/api/portfolios/${encodeURIComponent(record.id)}`, { published: !record.published });
      notify(record.published ? 'admin.portfolios.unpublished' : 'admin.portfolios.published_now', { type: 'info' });
      refresh();
    } catch (e) {
      setProblem((e as Error).message || t('error.UNKNOWN'));
    } finally {
      setBusy(false);
    }
  };
  const visible = record.published && record.visibility === 'public';
  return (
    <section aria-labelledby="publish-title" className="admin-card publish-bar">
      <h2 id="publish-title">{t('admin.portfolios.publication')}</h2>
      <p>
        {record.published ? t('admin.state.published') : t('admin.state.draft')} ·{' '}
        {t(`admin.choice.${record.visibility}`)}
      </p>
      {problem ? (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      ) : null}
      <p className="admin-actions">
        <button type="button" className="primary" onClick={() => void toggle()} aria-disabled={busy || undefined}>
          {record.published ? t('admin.action.unpublish') : t('admin.action.publish')}
        </button>
        {visible ? (
          <a href={`/api/public/portfolios/${encodeURIComponent(record.slug)}`} target="_blank" rel="noreferrer">
            {t('admin.portfolios.public_read')}
          </a>
        ) : (
          <span className="hint">{t('admin.portfolios.not_public')}</span>
        )}
      </p>
    </section>
  );
}
