/**
 * Create and edit screens of the five content kinds, from their definitions (kinds.ts): the
 * translatable fields side by side per language of the portfolio. A new row belongs to the
 * portfolio named by `?portfolioId=`; saving goes back to the portfolio.
 */
import {
  CreateContextProvider,
  EditContextProvider,
  Form,
  useCreateController,
  useEditController,
  useGetOne,
  type RaRecord,
} from 'ra-core';
import { Link, useLocation, useParams } from 'react-router';
import { useI18n } from '../../i18n';
import type { ChildKind } from '../dataProvider';
import { splitTags } from '../ui/inputs';
import { FormProblem, SaveButton } from '../ui/form';
import { Screen, ScreenProblem } from '../ui/Screen';
import { KindFields } from './fields';
import { KINDS, rowTitle } from './kinds';
import { ordered, useSiteLanguages } from './languages';
import { MediaPanel } from './Media';
import type { PortfolioRecord } from './portfolios';
import { CategoriesInput } from './Categories';
import { ProjectSkillsInput, SectionProjectInput } from './Relations';
import { SchedulePanel } from './Schedule';

/** What the form holds → what the API takes (tags typed comma-separated become an array). */
function transformFor(kind: ChildKind) {
  return (data: RaRecord) =>
    kind === 'projects' && 'skills' in data ? { ...data, skills: splitTags(data['skills']) } : data;
}

/** The relations a kind's form carries (categories, a project's skills, a section's project). */
function KindRelations({ kind, portfolioId }: { kind: ChildKind; portfolioId: string }) {
  return (
    <>
      {kind === 'sections' ? <SectionProjectInput portfolioId={portfolioId} /> : null}
      {kind === 'projects' ? <ProjectSkillsInput portfolioId={portfolioId} /> : null}
      {kind === 'projects' || kind === 'skills' ? <CategoriesInput /> : null}
    </>
  );
}

const portfolioPath = (id: string) => `/portfolios/${encodeURIComponent(id)}`;

function BackToPortfolio({ portfolio }: { portfolio: PortfolioRecord | undefined }) {
  const { t } = useI18n();
  if (!portfolio) return null;
  return (
    <p>
      <Link to={`/admin${portfolioPath(portfolio.id)}`}>{t('admin.back_to', { title: portfolio.title })}</Link>
    </p>
  );
}

export function childCreate(kind: ChildKind) {
  return function ChildCreate() {
    const { t } = useI18n();
    const portfolioId = new URLSearchParams(useLocation().search).get('portfolioId') ?? '';
    const languages = useSiteLanguages();
    const { data: portfolio, error } = useGetOne<PortfolioRecord>(
      'portfolios',
      { id: portfolioId },
      { enabled: portfolioId !== '' },
    );
    const controller = useCreateController({
      resource: kind,
      redirect: () => portfolioPath(portfolioId),
      transform: transformFor(kind),
    });
    const title = t(`admin.kind_add.${kind}`);
    if (portfolioId === '' || error) {
      return (
        <Screen title={title}>
          <ScreenProblem message={t('admin.no_portfolio')} />
        </Screen>
      );
    }
    if (!portfolio || languages === null) {
      return (
        <Screen title={title}>
          <p role="status">{t('admin.loading')}</p>
        </Screen>
      );
    }
    const defaults = kind === 'projects' ? { published: true } : {};
    return (
      <CreateContextProvider value={controller}>
        <Screen title={title}>
          <BackToPortfolio portfolio={portfolio} />
          <Form record={{ portfolioId, ...defaults }} noValidate>
            <FormProblem />
            <KindFields fields={KINDS[kind].fields} languages={ordered(languages, portfolio.defaultLanguage)} />
            <KindRelations kind={kind} portfolioId={portfolioId} />
            <SaveButton label={t('admin.action.create')} />
          </Form>
        </Screen>
      </CreateContextProvider>
    );
  };
}

export function childEdit(kind: ChildKind) {
  return function ChildEdit() {
    const { t } = useI18n();
    const { id } = useParams();
    const languages = useSiteLanguages();
    const controller = useEditController<RaRecord>({
      resource: kind,
      id,
      mutationMode: 'pessimistic',
      redirect: (_resource, _id, data) => portfolioPath(String(data?.['portfolioId'] ?? '')),
      transform: transformFor(kind),
    });
    const portfolioId = controller.record ? String(controller.record['portfolioId']) : '';
    const { data: portfolio } = useGetOne<PortfolioRecord>(
      'portfolios',
      { id: portfolioId },
      { enabled: portfolioId !== '' },
    );
    const fallbackTitle = t(`admin.kind_edit.${kind}`);
    if (controller.error) {
      return (
        <Screen title={fallbackTitle}>
          <ScreenProblem message={t('admin.load_failed')} />
        </Screen>
      );
    }
    if (controller.isPending || !controller.record || languages === null || !portfolio) {
      return (
        <Screen title={fallbackTitle}>
          <p role="status">{t('admin.loading')}</p>
        </Screen>
      );
    }
    const record = controller.record;
    return (
      <EditContextProvider value={controller}>
        <Screen title={`${fallbackTitle}: ${rowTitle(KINDS[kind], record)}`}>
          <BackToPortfolio portfolio={portfolio} />
          <Form noValidate>
            <FormProblem />
            <KindFields fields={KINDS[kind].fields} languages={ordered(languages, portfolio.defaultLanguage)} />
            <KindRelations kind={kind} portfolioId={portfolio.id} />
            <SaveButton />
          </Form>
          {kind === 'projects' ? (
            <SchedulePanel
              kind="projects"
              record={{
                id: String(record.id),
                publishAt: record['publishAt'] as string | null,
                unpublishAt: record['unpublishAt'] as string | null,
              }}
            />
          ) : null}
          {kind === 'projects' ? (
            <MediaPanel
              parent="project"
              parentId={String(record.id)}
              languages={languages}
              defaultLanguage={portfolio.defaultLanguage}
            />
          ) : null}
        </Screen>
      </EditContextProvider>
    );
  };
}
