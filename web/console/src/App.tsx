/** The console's routes. The server answers index.html for exactly these paths (src/console/). */
import { lazy, Suspense } from 'react';
import { BrowserRouter, Route, Routes } from 'react-router';
import { I18nProvider } from './i18n';
import { AcceptInvite } from './pages/AcceptInvite';
import { SessionDialog } from './components/SessionDialog';
import { Account } from './pages/Account';
import { AccountEvents } from './pages/AccountEvents';
import { AccountOverview } from './pages/AccountOverview';
import { AccountPasskeys } from './pages/AccountPasskeys';
import { AccountPassword } from './pages/AccountPassword';
import { AccountSecurity } from './pages/AccountSecurity';
import { AccountSessions } from './pages/AccountSessions';
import { ForgotPassword } from './pages/ForgotPassword';
import { NotFound } from './pages/NotFound';
import { ResetPassword } from './pages/ResetPassword';
import { SignIn } from './pages/SignIn';
import { UnlockAccount } from './pages/UnlockAccount';
import { VerifyEmail } from './pages/VerifyEmail';
import { WasThisYou } from './pages/WasThisYou';

/** The admin (ra-core and its screens) is a chunk of its own: the account pages never load it. */
const AdminApp = lazy(() => import('./admin/AdminApp'));

export function App() {
  return (
    <I18nProvider>
      <BrowserRouter>
        <Routes>
          <Route path="/reset-password" element={<ResetPassword />} />
          <Route path="/forgot-password" element={<ForgotPassword />} />
          <Route path="/verify-email" element={<VerifyEmail />} />
          <Route path="/unlock-account" element={<UnlockAccount />} />
          <Route path="/accept-invite" element={<AcceptInvite />} />
          <Route path="/was-this-you" element={<WasThisYou />} />
          <Route path="/account/sign-in" element={<SignIn />} />
          <Route path="/account" element={<Account />}>
            <Route index element={<AccountOverview />} />
            <Route path="password" element={<AccountPassword />} />
            <Route path="security" element={<AccountSecurity />} />
            <Route path="passkeys" element={<AccountPasskeys />} />
            <Route path="sessions" element={<AccountSessions />} />
            <Route path="events" element={<AccountEvents />} />
            <Route path="*" element={<NotFound />} />
          </Route>
          <Route
            path="/admin/*"
            element={
              <Suspense fallback={null}>
                <AdminApp />
              </Suspense>
            }
          />
          <Route path="*" element={<NotFound />} />
        </Routes>
        {/* The in-place "sign in again" every screen's API calls may ask for (api.ts). */}
        <SessionDialog />
      </BrowserRouter>
    </I18nProvider>
  );
}
