/**
 * The admin at /admin: ra-core's headless admin (data provider, resources, list and edit
 * controllers, i18n) with our own components and CSS; no Material UI (its run-time <style>
 * elements break the console's CSP, docs/CONSOLE.md). Mounted by App.tsx under /admin/*, inside
 * the console's router, with basename /admin.
 *
 * Before ra-core renders anything, `GET /api/auth/me` decides: nobody signed in → the console's
 * sign-in (it comes back here with ?next=); signed in without an admin permission → a page that
 * says so, with no admin screens at all; otherwise the screens the permissions open.
 */
import { QueryClient } from '@tanstack/react-query';
import { CoreAdminContext, CoreAdminUI, Resource, memoryStore } from 'ra-core';
import { useEffect, useMemo, useState } from 'react';
import { Layout } from '../components/Layout';
import { Notice } from '../components/Notice';
import { i18nProvider, useI18n } from '../i18n';
import { AdminLayout } from './AdminLayout';
import { authProviderFor, fetchMe, hasAdminAccess, mayOpen, signInUrl, type MeResult } from './authProvider';
import { AdminResourcesContext } from './context';
import { dataProvider } from './dataProvider';
import { AdminHome, AdminNotFound } from './Home';
import { RESOURCES, resourcePermissions } from './resources';
import '../styles/admin.css';

export default function AdminApp() {
  const { t } = useI18n();
  const [state, setState] = useState<MeResult | null>(null);
  useEffect(() => {
    let live = true;
    void fetchMe().then((result) => {
      if (!live) return;
      if (result.kind === 'signed-out') window.location.replace(signInUrl());
      else setState(result);
    });
    return () => {
      live = false;
    };
  }, []);

  const me = state?.kind === 'ok' ? state.me : null;
  const resources = useMemo(() => (me ? RESOURCES.filter((r) => mayOpen(me, r.permissions)) : []), [me]);
  const authProvider = useMemo(() => (me ? authProviderFor(me, resourcePermissions) : null), [me]);
  const queryClient = useMemo(
    () => new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } }),
    [],
  );
  const store = useMemo(() => memoryStore(), []);

  if (state === null) {
    return (
      <Layout title={t('admin.title')}>
        <p role="status">{t('admin.loading')}</p>
      </Layout>
    );
  }
  if (state.kind === 'restricted' || !me || !hasAdminAccess(me) || !authProvider) {
    return (
      <Layout title={t('admin.no_access.title')}>
        <Notice kind="error">
          {state.kind === 'restricted' ? t('admin.no_access.restricted') : t('admin.no_access.detail')}
        </Notice>
        <p className="links">
          <a href="/account">{t('link.account')}</a>
        </p>
      </Layout>
    );
  }
  return (
    <AdminResourcesContext.Provider value={resources}>
      <CoreAdminContext
        basename="/admin"
        dataProvider={dataProvider}
        authProvider={authProvider}
        i18nProvider={i18nProvider}
        store={store}
        queryClient={queryClient}
      >
        <CoreAdminUI
          layout={AdminLayout}
          dashboard={AdminHome}
          catchAll={AdminNotFound}
          title={t('admin.title')}
          disableTelemetry
        >
          {resources.map((r) => (
            <Resource
              key={r.name}
              name={r.name}
              list={r.list}
              create={r.create}
              edit={r.edit}
              show={r.show}
              options={{ label: t(r.labelKey) }}
            />
          ))}
        </CoreAdminUI>
      </CoreAdminContext>
    </AdminResourcesContext.Provider>
  );
}
