import { startRegistration } from '@simplewebauthn/browser';
import { useCallback, useEffect, useState } from 'react';
import { api, type Problem } from '../api';
import { AccountLayout } from '../account/AccountLayout';
import { BackupCodes } from '../account/BackupCodes';
import { useAccount } from '../account/context';
import { accountProblem, formatDate } from '../account/problems';
import { Field } from '../components/Field';
import { Submit, useSubmit } from '../components/forms';
import { Notice } from '../components/Notice';
import { useI18n } from '../i18n';

interface Passkey {
  id: string;
  name: string;
  deviceType: string;
  backedUp: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

const CANCELLED: Problem = { status: 0, code: 'PASSKEY_CANCELLED', detail: '', errors: [], retryAfter: null };

/**
 * /account/passkeys: the account's passkeys. Add (`POST /api/auth/mfa/passkeys/options` →
 * `startRegistration` → `POST /api/auth/mfa/passkeys {response, name}`; the first second factor
 * also answers backup codes, shown once), rename (`PATCH .../:id`), remove (`DELETE .../:id`,
 * recent sign-in: the in-place sign-in asks when the server wants it).
 */
export function AccountPasskeys() {
  const { t, locale } = useI18n();
  const { me, restricted } = useAccount();
  const [items, setItems] = useState<Passkey[] | null>(null);
  const [name, setName] = useState('');
  const [renaming, setRenaming] = useState<string | null>(null);
  const [newName, setNewName] = useState('');
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);

  const load = useCallback(async () => {
    if (restricted) return setItems([]);
    const res = await api<{ items: Passkey[] }>('GET', '/api/auth/mfa/passkeys');
    if (res.ok) setItems(res.data.items);
    else setProblem(res.problem);
  }, [restricted]);
  useEffect(() => {
    void load();
  }, [load]);

  const add = useSubmit(async () => {
    setProblem(null);
    setMessage(null);
    const options = await api('POST', '/api/auth/mfa/passkeys/options');
    if (!options.ok) return setProblem(options.problem);
    let response: unknown;
    try {
      type Options = Parameters<typeof startRegistration>[0]['optionsJSON'];
      response = await startRegistration({ optionsJSON: options.data as Options });
    } catch {
      return setProblem(CANCELLED);
    }
    const chosen = name.trim();
    const res = await api<{ passkey: Passkey; backupCodes?: string[] }>('POST', '/api/auth/mfa/passkeys', {
      response,
      ...(chosen === '' ? {} : { name: chosen }),
    });
    if (!res.ok) return setProblem(res.problem);
    setName('');
    setMessage(t('account.passkeys.added', { name: res.data.passkey.name }));
    if (res.data.backupCodes?.length) setCodes(res.data.backupCodes);
    await load();
  });

  const rename = useSubmit(async () => {
    if (renaming === null) return;
    setProblem(null);
    setMessage(null);
    const chosen = newName.trim();
    if (chosen === '') return void setErrors({ newName: t('field.required') });
    const res = await api<{ passkey: Passkey }>('PATCH', `/api/auth/mfa/passkeys/${encodeURIComponent(renaming)}`, {
      name: chosen,
    });
    if (!res.ok) {
      if (res.problem.errors.length > 0) return void setErrors({ newName: accountProblem(t, res.problem) });
      return setProblem(res.problem);
    }
    setErrors({});
    setRenaming(null);
    setNewName('');
    setMessage(t('account.passkeys.renamed', { name: res.data.passkey.name }));
    await load();
  });

  const remove = async (p: Passkey) => {
    setProblem(null);
    setMessage(null);
    const res = await api('DELETE', `/api/auth/mfa/passkeys/${encodeURIComponent(p.id)}`);
    if (!res.ok) return setProblem(res.problem);
    setMessage(t('account.passkeys.removed', { name: p.name }));
    await load();
  };

  return (
    <AccountLayout title={t('account.passkeys.title')}>
      <p>{t('account.passkeys.intro')}</p>
      {message ? <Notice kind="ok">{message}</Notice> : null}
      {problem ? <Notice kind="error">{accountProblem(t, problem)}</Notice> : null}
      {codes ? <BackupCodes codes={codes} email={me.email} onDone={() => setCodes(null)} /> : null}
      <section aria-labelledby="passkey-list">
        <h2 id="passkey-list">{t('account.passkeys.list')}</h2>
        {items === null ? (
          <p role="status">{t('account.loading')}</p>
        ) : items.length === 0 ? (
          <p>{t('account.passkeys.none')}</p>
        ) : (
          <ul className="item-list">
            {items.map((p) => (
              <li key={p.id}>
                <p className="item-title">{p.name}</p>
                <p className="hint">
                  {t('account.passkeys.added_on', { date: formatDate(locale, p.createdAt) })},{' '}
                  {p.lastUsedAt
                    ? t('account.passkeys.last_used', { date: formatDate(locale, p.lastUsedAt) })
                    : t('account.passkeys.never_used')}
                </p>
                {renaming === p.id ? (
                  <form onSubmit={rename.onSubmit} noValidate>
                    <Field
                      id="newName"
                      label={t('account.passkeys.new_name')}
                      maxLength={100}
                      required
                      value={newName}
                      onValue={setNewName}
                      error={errors['newName']}
                      autoFocus
                    />
                    <p className="links">
                      <Submit busy={rename.busy}>{t('account.passkeys.save')}</Submit>
                      <button type="button" onClick={() => (setRenaming(null), setErrors({}))}>
                        {t('account.passkeys.cancel')}
                      </button>
                    </p>
                  </form>
                ) : (
                  <p className="links">
                    <button
                      type="button"
                      aria-label={t('account.passkeys.rename', { name: p.name })}
                      onClick={() => {
                        setRenaming(p.id);
                        setNewName(p.name);
                        setErrors({});
                      }}
                    >
                      {t('account.passkeys.rename', { name: '' }).trim()}
                    </button>
                    <button
                      type="button"
                      aria-label={t('account.passkeys.remove', { name: p.name })}
                      onClick={() => void remove(p)}
                    >
                      {t('account.passkeys.remove', { name: '' }).trim()}
                    </button>
                  </p>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="passkey-add">
        <h2 id="passkey-add">{t('account.passkeys.add')}</h2>
        <form onSubmit={add.onSubmit} noValidate>
          <Field
            id="passkeyName"
            label={t('account.passkeys.name')}
            maxLength={100}
            autoComplete="off"
            value={name}
            onValue={setName}
          />
          <Submit busy={add.busy}>{t('account.passkeys.add')}</Submit>
        </form>
      </section>
    </AccountLayout>
  );
}
