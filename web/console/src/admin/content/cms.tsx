/**
 * What the CMS screens share (languages, categories, site texts, schedules, alt texts): the API's
 * problem in plain words (the codes of src/content/{languages,categories,texts} have their own
 * sentences, in English and Spanish), field problems by path, an outcome region, and a text field
 * that is not part of an ra-core form (label, hint and error tied to the control).
 */
import { useCallback, useState, type ReactNode } from 'react';
import type { Problem } from '../../api';
import { useI18n, type Translate } from '../../i18n';
import { problemMessage } from '../../problems';
import { fieldPath } from '../dataProvider';
import '../../styles/admin-cms.css';

/** The codes with a sentence of their own under `admin_cms.error.*`. */
const CMS_CODES = new Set([
  'LANGUAGE_IS_DEFAULT',
  'LANGUAGE_IN_FALLBACK',
  'LANGUAGE_IS_PORTFOLIO_DEFAULT',
  'LANGUAGE_HELD_BY_ROLE',
  'LANGUAGE_IN_USE',
  'LANGUAGE_NOT_ENABLED',
  'LANGUAGE_FALLBACK_CYCLE',
  'LANGUAGE_EXISTS',
  'INVALID_LANGUAGE_TAG',
  'DEFAULT_LANGUAGE_CONFLICT',
  'CATEGORY_EXISTS',
  'CATEGORY_TYPE_EXISTS',
  'CATEGORY_IN_USE',
  'UNKNOWN_CATEGORY_TYPE',
  'UNKNOWN_CATEGORY',
  'TEXT_KEY_CONFLICT',
  'SKILL_NOT_IN_PORTFOLIO',
  'PROJECT_NOT_IN_PORTFOLIO',
  'CONTENT_LIMIT_REACHED',
  'REAUTH_REQUIRED',
  'FORBIDDEN',
]);

/** The problem+json inside an error thrown by `apiCall` (an ra HttpError), if any. */
export function problemOf(error: unknown): Problem | null {
  const body = (error as { body?: { problem?: Problem } } | null)?.body;
  return body?.problem ?? null;
}

/** A problem in plain words: our sentence for the code when we have one, else the API's detail. */
export function cmsMessage(t: Translate, error: unknown): string {
  const problem = problemOf(error);
  if (!problem) return t('error.UNKNOWN');
  if (CMS_CODES.has(problem.code)) return t(`admin_cms.error.${problem.code}`);
  return problemMessage(t, problem);
}

/**
 * Field problems of an answer keyed by the field's last path segment, or the whole path joined
 * by dots (`body/translations/es/name` → `translations.es.name`); `fields` maps codes that name
 * no path to a field.
 */
export function fieldProblems(error: unknown, fields: Record<string, string> = {}): Record<string, string> {
  const problem = problemOf(error);
  const out: Record<string, string> = {};
  if (!problem) return out;
  for (const e of problem.errors) {
    const key = fieldPath(e.path).join('.');
    if (key !== '' && out[key] === undefined) out[key] = e.message;
  }
  const field = fields[problem.code];
  if (field && out[field] === undefined) out[field] = problem.detail || problem.code;
  return out;
}

export type Outcome = { kind: 'ok' | 'error'; text: string } | null;

/** The outcome of the last action: a status (polite) or an alert. */
export function OutcomeNotice({ outcome }: { outcome: Outcome }) {
  return (
    <div className="cms-outcome">
      <div role="status">{outcome?.kind === 'ok' ? <p className="notice notice-ok">{outcome.text}</p> : null}</div>
      <div role="alert">{outcome?.kind === 'error' ? <p className="notice notice-error">{outcome.text}</p> : null}</div>
    </div>
  );
}

/** One action at a time; `run` answers the error (or null) so a form can put field problems under fields. */
export function useAction() {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const run = useCallback(
    async (action: () => Promise<string>): Promise<unknown> => {
      setBusy(true);
      setOutcome(null);
      try {
        setOutcome({ kind: 'ok', text: await action() });
        return null;
      } catch (error) {
        setOutcome({ kind: 'error', text: cmsMessage(t, error) });
        return error ?? new Error('failed');
      } finally {
        setBusy(false);
      }
    },
    [t],
  );
  return { busy, outcome, run, setOutcome };
}

/** A labelled control outside ra-core's forms, its hint and problem tied to it. */
export function Field({
  id,
  label,
  error,
  hint,
  className,
  children,
}: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  className?: string;
  children: (aria: {
    id: string;
    'aria-invalid': true | undefined;
    'aria-describedby': string | undefined;
  }) => ReactNode;
}) {
  const describedBy = [error ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(' ');
  return (
    <div className={`field${error ? ' has-error' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy || undefined })}
      {hint ? (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** A safe id fragment from any text (language codes, keys, uuids). */
export const idPart = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '-');

/** The browser's time zone, said next to every date-time input (`Europe/Madrid`). */
export function timeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** `2030-01-31T08:00:00.000Z` → the `datetime-local` value of that moment in this browser's zone. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A `datetime-local` value (this browser's zone) → ISO 8601 with an offset (UTC), what the API takes. */
export function fromLocalInput(value: string): string | null {
  if (value.trim() === '') return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}
