/** "New password" with live strength feedback (zxcvbn, as the server checks it). */
import { useEffect, useState } from 'react';
import { useI18n } from '../i18n';
import { estimate, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, type Strength } from '../strength';
import { Field } from './Field';

export function PasswordField(props: {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  error?: string | null;
  userInputs?: string[];
}) {
  const { t } = useI18n();
  const { value, userInputs } = props;
  const [strength, setStrength] = useState<Strength | null>(null);
  const length = [...value].length;
  const inputsKey = (userInputs ?? []).join('\n');
  useEffect(() => {
    if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
      setStrength(null);
      return;
    }
    let live = true;
    const timer = window.setTimeout(() => {
      void estimate(value, inputsKey === '' ? [] : inputsKey.split('\n')).then((s) => {
        if (live) setStrength(s);
      });
    }, 150);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [value, length, inputsKey]);

  const hintId = `${props.id}-strength`;
  let text: string;
  if (length === 0) text = t('strength.hint', { min: PASSWORD_MIN_LENGTH });
  else if (length < PASSWORD_MIN_LENGTH) text = t('strength.too_short', { count: length, min: PASSWORD_MIN_LENGTH });
  else if (length > PASSWORD_MAX_LENGTH) text = t('strength.too_long', { max: PASSWORD_MAX_LENGTH });
  else if (strength === null) text = t('strength.checking');
  else text = `${t('strength.label')}: ${t(`strength.level_${strength.score}`)}`;
  const score = length >= PASSWORD_MIN_LENGTH && strength !== null ? strength.score : 0;

  return (
    <Field
      id={props.id}
      label={props.label}
      type="password"
      autoComplete="new-password"
      required
      value={value}
      onValue={props.onValue}
      error={props.error}
      extraId={hintId}
      extra={
        <div className="strength" data-score={score}>
          <meter min={0} max={4} low={2} high={3} optimum={4} value={score} aria-label={t('strength.label')} />
          <p id={hintId} className="hint" aria-live="polite">
            {text}
            {strength?.warning && length >= PASSWORD_MIN_LENGTH ? <span lang="en"> — {strength.warning}</span> : null}
          </p>
        </div>
      }
    />
  );
}
