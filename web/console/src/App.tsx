/** The console's routes. The server answers index.html for exactly these paths (src/console/). */
import { BrowserRouter, Route, Routes } from 'react-router';
import { I18nProvider } from './i18n';
import { AcceptInvite } from './pages/AcceptInvite';
import { Account } from './pages/Account';
import { ForgotPassword } from './pages/ForgotPassword';
import { NotFound } from './pages/NotFound';
import { ResetPassword } from './pages/ResetPassword';
import { SignIn } from './pages/SignIn';
import { UnlockAccount } from './pages/UnlockAccount';
import { VerifyEmail } from './pages/VerifyEmail';
import { WasThisYou } from './pages/WasThisYou';

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
          <Route path="/account" element={<Account />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </BrowserRouter>
    </I18nProvider>
  );
}
