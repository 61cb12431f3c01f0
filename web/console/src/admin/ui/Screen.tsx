/** One admin screen: its <h1> (where you are), the document title, and optional actions beside it. */
import { useEffect, type ReactNode } from 'react';
import { useI18n } from '../../i18n';

export function Screen({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  const { t } = useI18n();
  useEffect(() => {
    document.title = `${title} · ${t('admin.title')}`;
  }, [title, t]);
  return (
    <div className="admin-screen">
      <div className="admin-screen-head">
        <h1>{title}</h1>
        {actions ? <div className="admin-actions">{actions}</div> : null}
      </div>
      {children}
    </div>
  );
}

/** A problem with a whole screen (not found, no access, network): in words, as an alert. */
export function ScreenProblem({ message }: { message: string }) {
  return (
    <p className="notice notice-error" role="alert">
      {message}
    </p>
  );
}
