/**
 * The admin's view of the content definitions (src/content/schema.ts): which fields each kind has,
 * how they are typed in, which are translatable. The API stays the judge: its problem+json lands
 * under the field it names.
 */
import type { ChildKind } from '../dataProvider';

export type FieldType = 'text' | 'textarea' | 'url' | 'date' | 'number' | 'select' | 'boolean' | 'tags';

export interface KindField {
  name: string;
  type: FieldType;
  required?: boolean;
  translatable?: boolean;
  nullable?: boolean;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

export interface KindDef {
  kind: ChildKind;
  /** The field that names a row in lists (its default-language text). */
  titleField: string;
  fields: readonly KindField[];
}

export const SECTION_KINDS = ['about', 'experience', 'education', 'contact', 'skills', 'projects', 'custom'] as const;
export const DISPLAY_STYLES = ['text', 'list', 'cards', 'timeline', 'gallery'] as const;
export const SKILL_TYPES = ['technical', 'language', 'soft', 'tool', 'other'] as const;
export const LINK_KINDS = ['github', 'linkedin', 'website', 'email', 'other'] as const;

export const KINDS: Readonly<Record<ChildKind, KindDef>> = {
  projects: {
    kind: 'projects',
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', required: true, translatable: true },
      { name: 'description', type: 'textarea', translatable: true },
      { name: 'url', type: 'url', nullable: true },
      { name: 'repositoryUrl', type: 'url', nullable: true },
      { name: 'date', type: 'date', nullable: true },
      { name: 'skills', type: 'tags' },
      { name: 'published', type: 'boolean' },
    ],
  },
  sections: {
    kind: 'sections',
    titleField: 'title',
    fields: [
      { name: 'kind', type: 'select', required: true, choices: SECTION_KINDS },
      { name: 'title', type: 'text', required: true, translatable: true },
      { name: 'body', type: 'textarea', translatable: true },
      { name: 'displayStyle', type: 'select', choices: DISPLAY_STYLES },
    ],
  },
  experiences: {
    kind: 'experiences',
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', required: true, translatable: true },
      { name: 'organization', type: 'text', translatable: true },
      { name: 'description', type: 'textarea', translatable: true },
      { name: 'startYear', type: 'number', required: true, min: 1900, max: 2100 },
      { name: 'endYear', type: 'number', nullable: true, min: 1900, max: 2100 },
    ],
  },
  skills: {
    kind: 'skills',
    titleField: 'name',
    fields: [
      { name: 'name', type: 'text', required: true, translatable: true },
      { name: 'level', type: 'number', nullable: true, min: 1, max: 5 },
    ],
  },
  links: {
    kind: 'links',
    titleField: 'label',
    fields: [
      { name: 'url', type: 'url', required: true },
      { name: 'kind', type: 'select', choices: LINK_KINDS },
      { name: 'label', type: 'text', translatable: true },
    ],
  },
};

/** A row's name in lists: its title in the default language, else its URL, else its id. */
export function rowTitle(def: KindDef, row: Record<string, unknown>): string {
  const title = row[def.titleField];
  if (typeof title === 'string' && title.trim() !== '') return title;
  const url = row['url'];
  if (typeof url === 'string' && url !== '') return url;
  const id = row['id'];
  return typeof id === 'string' ? id : '';
}
