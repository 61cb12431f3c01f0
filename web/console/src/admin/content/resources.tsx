/** The content screens: portfolios (with everything in them) and the five kinds' forms. */
import { CHILD_KINDS } from '../dataProvider';
import type { AdminResource } from '../types';
import { childCreate, childEdit } from './children';
import { CategoryEdit, CategoryList } from './Categories';
import { MissingTranslationsScreen } from './MissingTranslations';
import { PortfolioCreate, PortfolioEdit, PortfolioList } from './portfolios';
import { SiteLanguagesScreen } from './SiteLanguages';
import { SiteTextsScreen } from './SiteTexts';

/** Content is for editors and admins (content:*_any); the `user` role's own-content permissions do not open it. */
export const CONTENT_PERMISSIONS = ['content:read_any', 'content:write_any'] as const;

export const contentResources: readonly AdminResource[] = [
  {
    name: 'portfolios',
    labelKey: 'admin.nav.portfolios',
    permissions: CONTENT_PERMISSIONS,
    list: PortfolioList,
    create: PortfolioCreate,
    edit: PortfolioEdit,
  },
  ...CHILD_KINDS.map((kind): AdminResource => ({
    name: kind,
    labelKey: `admin.kind.${kind}`,
    permissions: CONTENT_PERMISSIONS,
    create: childCreate(kind),
    edit: childEdit(kind),
    nav: false,
  })),
  // Site-wide content (docs/CONTENT.md): reading needs content:read_any, changing content:write_any.
  {
    name: 'languages',
    labelKey: 'admin_cms.nav.languages',
    permissions: CONTENT_PERMISSIONS,
    list: SiteLanguagesScreen,
  },
  {
    name: 'categories',
    labelKey: 'admin_cms.nav.categories',
    permissions: CONTENT_PERMISSIONS,
    list: CategoryList,
    edit: CategoryEdit,
  },
  { name: 'texts', labelKey: 'admin_cms.nav.texts', permissions: CONTENT_PERMISSIONS, list: SiteTextsScreen },
  {
    name: 'translations',
    labelKey: 'admin_cms.nav.missing',
    permissions: CONTENT_PERMISSIONS,
    list: MissingTranslationsScreen,
  },
];
