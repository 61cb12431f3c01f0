/** A labelled input with its problem shown right under it (and tied to it for screen readers). */
import type { InputHTMLAttributes, ReactNode } from 'react';

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'onChange' | 'value'> {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  error?: string | null | undefined;
  /** More text under the input (hints, strength), linked by aria-describedby. */
  extra?: ReactNode;
  extraId?: string;
}

export function Field({ id, label, value, onValue, error, extra, extraId, ...input }: FieldProps) {
  const errorId = `${id}-error`;
  const describedBy = [error ? errorId : null, extraId ?? null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={error ? 'field has-error' : 'field'}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={id}
        value={value}
        onChange={(e) => onValue(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        {...input}
      />
      {extra}
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
