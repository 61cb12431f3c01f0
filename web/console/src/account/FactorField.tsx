/** "Authentication code", or "Backup code" for an account without an app (a passkey-only account). */
import { Field } from '../components/Field';
import { useI18n } from '../i18n';

export type ProofKind = 'code' | 'backupCode';

export function FactorField(props: {
  kind: ProofKind;
  onKind: (kind: ProofKind) => void;
  value: string;
  onValue: (value: string) => void;
  error: string | null | undefined;
}) {
  const { t } = useI18n();
  const other: ProofKind = props.kind === 'code' ? 'backupCode' : 'code';
  return (
    <>
      {props.kind === 'code' ? (
        <Field
          id="code"
          label={t('field.auth_code')}
          inputMode="numeric"
          autoComplete="one-time-code"
          required
          value={props.value}
          onValue={props.onValue}
          error={props.error}
        />
      ) : (
        <Field
          id="backupCode"
          label={t('field.backup_code')}
          autoComplete="off"
          spellCheck={false}
          required
          value={props.value}
          onValue={props.onValue}
          error={props.error}
        />
      )}
      <button
        type="button"
        className="link-button"
        onClick={() => {
          props.onValue('');
          props.onKind(other);
        }}
      >
        {t(other === 'code' ? 'signin.switch_totp' : 'signin.switch_backup_code')}
      </button>
    </>
  );
}

/** The proof as the API takes it: `{code}` (spaces removed) or `{backupCode}`. */
export function proofOf(kind: ProofKind, value: string): Record<string, string> {
  return kind === 'code' ? { code: value.replace(/\s+/g, '') } : { backupCode: value.trim() };
}
