/**
 * What the users and security screens share: a problem (ra HttpError from the data provider, or
 * a failed `apiCall`) in plain words, the "sign in again" link a REAUTH_REQUIRED answer needs,
 * a one-press action with its outcome in a live region, and record ids for lists whose API items
 * have none (audit events have `seq`, blocks `client`).
 */
import { DataProviderContext, type DataProvider, type GetListResult, type RaRecord } from 'ra-core';
import { useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import type { Problem } from '../../api';
import { useI18n, type Translate } from '../../i18n';
import { problemMessage } from '../../problems';
import '../../styles/admin-security.css';

/** The problem+json inside an error thrown by the data provider or `apiCall`, if any. */
export function problemOf(error: unknown): Problem | null {
  const body = (error as { body?: { problem?: Problem } } | null)?.body;
  return body?.problem ?? null;
}

export function errorMessage(t: Translate, error: unknown): string {
  const problem = problemOf(error);
  if (!problem) return t('error.UNKNOWN');
  if (problem.code === 'REAUTH_REQUIRED') return t('admin_users.reauth');
  return problemMessage(t, problem);
}

/** After a REAUTH_REQUIRED: sign in again and come back to this screen. */
export function ReauthLink() {
  const { t } = useI18n();
  const next = `${window.location.pathname}${window.location.search}`;
  return <a href={`/account/sign-in?next=${encodeURIComponent(next)}`}>{t('admin_users.reauth_link')}</a>;
}

export type Outcome = { kind: 'ok' | 'error'; text: string; reauth?: boolean } | null;

/** The outcome of the last action on a screen: a status, or an alert (with "sign in again" when needed). */
export function OutcomeNotice({ outcome }: { outcome: Outcome }) {
  return (
    <div className="admin-outcome">
      <div role="status">{outcome?.kind === 'ok' ? <p className="notice notice-ok">{outcome.text}</p> : null}</div>
      <div role="alert">
        {outcome?.kind === 'error' ? (
          <p className="notice notice-error">
            {outcome.text} {outcome.reauth ? <ReauthLink /> : null}
          </p>
        ) : null}
      </div>
    </div>
  );
}

/** Runs one action at a time; its outcome goes to `OutcomeNotice`. */
export function useAction() {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const run = useCallback(
    async (action: () => Promise<string>): Promise<boolean> => {
      setBusy(true);
      setOutcome(null);
      try {
        setOutcome({ kind: 'ok', text: await action() });
        return true;
      } catch (error) {
        setOutcome({
          kind: 'error',
          text: errorMessage(t, error),
          reauth: problemOf(error)?.code === 'REAUTH_REQUIRED',
        });
        return false;
      } finally {
        setBusy(false);
      }
    },
    [t],
  );
  return { busy, outcome, run, setOutcome };
}

/**
 * Gives the records of `getList` an `id` (ra-core keys rows and caches by it) for APIs whose
 * items are keyed by something else. Only this subtree sees the change.
 */
export function WithRecordIds({ idOf, children }: { idOf: (record: RaRecord) => string; children: ReactNode }) {
  const base = useContext(DataProviderContext);
  const wrapped = useMemo(() => {
    if (!base) return base;
    return new Proxy(base, {
      get(target, name, receiver) {
        if (name !== 'getList') return Reflect.get(target, name, receiver) as unknown;
        const getList = async <R extends RaRecord>(
          resource: string,
          params: Parameters<DataProvider['getList']>[1],
        ): Promise<GetListResult<R>> => {
          const result = await target.getList<R>(resource, params);
          return { ...result, data: result.data.map((r) => ({ ...r, id: idOf(r) })) };
        };
        return getList;
      },
    });
  }, [base, idOf]);
  return <DataProviderContext.Provider value={wrapped}>{children}</DataProviderContext.Provider>;
}

/** A date-time in the console's language. */
export function formatTime(locale: string, iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(locale);
}
