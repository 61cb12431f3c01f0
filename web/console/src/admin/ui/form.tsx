/** Form pieces: the save button (shows work, one submit at a time) and the form-level problem. */
import { useFormState } from 'react-hook-form';
import { useI18n } from '../../i18n';

export function SaveButton({ label }: { label?: string }) {
  const { t } = useI18n();
  const { isSubmitting } = useFormState();
  return (
    <button
      type="submit"
      className="primary"
      aria-disabled={isSubmitting || undefined}
      data-busy={isSubmitting || undefined}
    >
      {label ?? t('admin.action.save')}
      {isSubmitting ? <span className="busy"> {t('button.working')}</span> : null}
    </button>
  );
}

/**
 * The API's answer when it is not about one field (or also about one): under the form's title,
 * as an alert. Field problems are under their fields (inputs.tsx).
 */
export function FormProblem() {
  const { t } = useI18n();
  const { errors, isSubmitted } = useFormState();
  const root = (errors as { root?: { serverError?: { message?: string } } }).root?.serverError?.message;
  const fieldCount = Object.keys(errors).filter((k) => k !== 'root').length;
  if (root) {
    return (
      <p className="notice notice-error" role="alert">
        {fieldCount > 0 ? t('error.VALIDATION_FAILED') : root}
      </p>
    );
  }
  if (isSubmitted && fieldCount > 0) {
    return (
      <p className="notice notice-error" role="alert">
        {t('error.VALIDATION_FAILED')}
      </p>
    );
  }
  return null;
}
