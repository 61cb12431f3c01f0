/** Backup codes shown once, with a download (account/download.ts) and "I have saved them". */
import { useI18n } from '../i18n';
import { downloadText } from './download';
import { Notice } from '../components/Notice';

export function BackupCodes({ codes, email, onDone }: { codes: string[]; email: string; onDone: () => void }) {
  const { t } = useI18n();
  const download = () => {
    const heading = t('account.totp.file_heading', { email: email || window.location.host });
    downloadText('backup-codes.txt', `${heading}\n\n${codes.join('\n')}\n`);
  };
  return (
    <section className="backup-codes" aria-labelledby="backup-codes-title">
      <h2 id="backup-codes-title">{t('account.totp.backup_title')}</h2>
      <Notice kind="info">{t('account.totp.backup_intro')}</Notice>
      <ol className="code-list">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ol>
      <p className="links">
        <button type="button" onClick={download}>
          {t('account.totp.download')}
        </button>
        <button type="button" onClick={onDone}>
          {t('account.totp.saved')}
        </button>
      </p>
    </section>
  );
}
