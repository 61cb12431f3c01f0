/**
 * Relations (src/content/relations, docs/CONTENT.md) in the child forms: a project's skills
 * (`skillIds`, skills of the same portfolio, in the order ticked) and the project a section belongs
 * to (`projectId`, or the portfolio itself). The API checks both again (400
 * SKILL_NOT_IN_PORTFOLIO / PROJECT_NOT_IN_PORTFOLIO, shown under the field).
 */
import { useInput } from 'ra-core';
import { useEffect, useState } from 'react';
import { useI18n } from '../../i18n';
import { fetchAll } from '../dataProvider';
import { errorText, SelectInput } from '../ui/inputs';
import { idPart } from './cms';

interface Row {
  id: string;
  [field: string]: unknown;
}

function usePortfolioRows(portfolioId: string, kind: 'skills' | 'projects'): Row[] | null {
  const [rows, setRows] = useState<Row[] | null>(null);
  useEffect(() => {
    let live = true;
    void fetchAll<Row>(`/api/portfolios/${encodeURIComponent(portfolioId)}/${kind}`)
      .then((r) => {
        if (live) setRows(r);
      })
      .catch(() => {
        if (live) setRows([]);
      });
    return () => {
      live = false;
    };
  }, [portfolioId, kind]);
  return rows;
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

/** A project's skills: one checkbox per skill of its portfolio. */
export function ProjectSkillsInput({ portfolioId }: { portfolioId: string }) {
  const { t } = useI18n();
  const skills = usePortfolioRows(portfolioId, 'skills');
  const { field, fieldState } = useInput({ source: 'skillIds' });
  const value: string[] = Array.isArray(field.value) ? (field.value as string[]) : [];
  const error = errorText(t, fieldState.error?.message);
  const toggle = (id: string, on: boolean) =>
    field.onChange(on ? [...value.filter((v) => v !== id), id] : value.filter((v) => v !== id));
  return (
    <fieldset
      className={`cms-checks${error ? ' has-error' : ''}`}
      aria-describedby={error ? 'field-skillIds-error' : undefined}
    >
      <legend>{t('admin_cms.relations.skills')}</legend>
      {skills === null ? <p>{t('admin.loading')}</p> : null}
      {skills?.length === 0 ? <p className="hint">{t('admin_cms.relations.no_skills')}</p> : null}
      {(skills ?? []).map((s) => {
        const id = `skill-${idPart(s.id)}`;
        return (
          <div key={s.id} className="check">
            <input
              id={id}
              type="checkbox"
              checked={value.includes(s.id)}
              onChange={(e) => toggle(s.id, e.target.checked)}
            />
            <label htmlFor={id}>{text(s['name'])}</label>
          </div>
        );
      })}
      {error ? (
        <p id="field-skillIds-error" className="field-error">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

/** The project a section belongs to, or none (the portfolio's own section). */
export function SectionProjectInput({ portfolioId }: { portfolioId: string }) {
  const { t } = useI18n();
  const projects = usePortfolioRows(portfolioId, 'projects');
  if (projects === null) return <p>{t('admin.loading')}</p>;
  return (
    <SelectInput
      source="projectId"
      label={t('admin_cms.relations.project')}
      hint={t('admin_cms.relations.project_hint')}
      nullable
      emptyLabel={t('admin_cms.relations.no_project')}
      choices={projects.map((p) => ({ id: p.id, name: text(p['title']) }))}
    />
  );
}
