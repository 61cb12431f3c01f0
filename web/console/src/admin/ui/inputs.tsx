/**
 * The admin's form inputs on ra-core's `useInput` (react-hook-form underneath): a visible label
 * tied to the control, the field's problem right under it (`aria-invalid`, `aria-describedby`),
 * whether it came from the browser-side check or from the API's problem+json (dataProvider.ts
 * turns `errors[].path` into field errors).
 */
import { useInput, type Validator } from 'ra-core';
import type { ReactNode } from 'react';
import { useI18n, type Translate } from '../../i18n';

interface BaseProps {
  source: string;
  label: string;
  required?: boolean;
  hint?: string;
  validate?: Validator | Validator[];
  /** The language of the text typed here (translations), for screen readers and spell checkers. */
  lang?: string;
  className?: string;
}

/** ra's validation messages are keys (`ra.validation.required`); the API's are plain text. */
export function errorText(t: Translate, message: string | undefined): string | null {
  if (!message) return null;
  if (message.startsWith('ra.validation.')) return t(`admin.validation.${message.slice('ra.validation.'.length)}`);
  return message;
}

const requiredCheck = (t: Translate) => (value: unknown) =>
  value === null || value === undefined || (typeof value === 'string' && value.trim() === '')
    ? t('field.required')
    : undefined;

function validators(t: Translate, required: boolean | undefined, validate: BaseProps['validate']): Validator[] {
  const list = validate === undefined ? [] : Array.isArray(validate) ? validate : [validate];
  return required ? [requiredCheck(t), ...list] : list;
}

/** A stored value as the text of an input (null and anything unexpected: empty). */
const asText = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** Id of an input from its source (`translations.es.title` → `field-translations-es-title`). */
export const inputId = (source: string) => `field-${source.replace(/[^A-Za-z0-9_-]/g, '-')}`;

function Wrapper({
  id,
  label,
  error,
  hint,
  required,
  className,
  children,
}: {
  id: string;
  label: string;
  error: string | null;
  hint: string | undefined;
  required: boolean | undefined;
  className: string | undefined;
  children: ReactNode;
}) {
  return (
    <div className={`field${error ? ' has-error' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={id}>
        {label}
        {required ? <span aria-hidden="true"> *</span> : null}
      </label>
      {children}
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

const describedBy = (id: string, error: string | null, hint: string | undefined) =>
  [error ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(' ') || undefined;

/**
 * One text-like field on `useInput`: its id, the props every control takes (value, handlers,
 * `aria-*` tying it to its label, hint and problem), and its `Wrapper`. Each input below only adds
 * how it formats and parses, and its own element.
 */
function useField(
  props: BaseProps,
  options: { format?: (v: unknown) => string; parse: (v: string) => unknown; hint?: string; checked?: boolean },
) {
  const { t } = useI18n();
  const id = inputId(props.source);
  const checked = options.checked !== false;
  const { field, fieldState } = useInput({
    source: props.source,
    id,
    ...(checked ? { validate: validators(t, props.required, props.validate) } : {}),
    format: options.format ?? asText,
    parse: options.parse,
  });
  const error = errorText(t, fieldState.error?.message);
  const hint = options.hint ?? props.hint;
  const required = checked ? props.required : false;
  const control = {
    id,
    name: field.name,
    value: field.value as string,
    onChange: field.onChange,
    onBlur: field.onBlur,
    ref: field.ref,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy(id, error, hint),
    'aria-required': required || undefined,
  };
  const wrap = (children: ReactNode) => (
    <Wrapper id={id} label={props.label} error={error} hint={hint} required={required} className={props.className}>
      {children}
    </Wrapper>
  );
  return { control, wrap };
}

export function TextInput(
  props: BaseProps & {
    type?: 'text' | 'url' | 'date' | 'email';
    multiline?: boolean;
    nullable?: boolean;
    autoComplete?: string;
  },
) {
  const { control, wrap } = useField(props, {
    parse: (v: string) => (props.nullable && v.trim() === '' ? null : v),
  });
  const common = { ...control, lang: props.lang };
  return wrap(
    props.multiline ? (
      <textarea {...common} rows={4} />
    ) : (
      <input {...common} type={props.type ?? 'text'} autoComplete={props.autoComplete ?? 'off'} />
    ),
  );
}

export function NumberInput(props: BaseProps & { min?: number; max?: number }) {
  const { control, wrap } = useField(props, { parse: (v: string) => (v.trim() === '' ? null : Number(v)) });
  return wrap(<input {...control} type="number" inputMode="numeric" min={props.min} max={props.max} />);
}

export function SelectInput(
  props: BaseProps & { choices: readonly { id: string; name: string }[]; emptyLabel?: string; nullable?: boolean },
) {
  const { control, wrap } = useField(props, {
    parse: (v: string) => (v === '' ? (props.nullable ? null : undefined) : v),
  });
  return wrap(
    <select {...control}>
      {props.emptyLabel !== undefined ? <option value="">{props.emptyLabel}</option> : null}
      {props.choices.map((c) => (
        <option key={c.id} value={c.id}>
          {c.name}
        </option>
      ))}
    </select>,
  );
}

export function BooleanInput(props: Omit<BaseProps, 'required' | 'validate'>) {
  const { t } = useI18n();
  const id = inputId(props.source);
  const { field, fieldState } = useInput({ source: props.source, id, type: 'checkbox' });
  const error = errorText(t, fieldState.error?.message);
  return (
    <div className={`check${error ? ' has-error' : ''}`}>
      <input
        id={id}
        name={field.name}
        type="checkbox"
        checked={field.value === true}
        onChange={(e) => field.onChange(e.target.checked)}
        onBlur={field.onBlur}
        ref={field.ref}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, props.hint)}
      />
      <label htmlFor={id}>{props.label}</label>
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** A list of short texts typed comma-separated (a project's skills). */
export function TagsInput(props: BaseProps) {
  const { t } = useI18n();
  const { control, wrap } = useField(props, {
    format: (v: unknown) => (Array.isArray(v) ? v.join(', ') : typeof v === 'string' ? v : ''),
    parse: (v: string) => v,
    hint: props.hint ?? t('admin.hint.comma_separated'),
    checked: false,
  });
  return wrap(<input {...control} />);
}

/** Comma-separated text → the array the API takes (before a save). */
export function splitTags(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
