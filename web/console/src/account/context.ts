/** What every "My account" screen knows: who is signed in (GET /api/auth/me), and how to reload it. */
import { useOutletContext } from 'react-router';

export interface Me {
  id: string;
  email: string;
  name: string;
  roles: string[];
  emailVerified: boolean;
  emailVerifiedAt: string | null;
}

export interface AccountContext {
  me: Me;
  /**
   * Signed in, but the account must enroll a second factor first (403 MFA_ENROLLMENT_REQUIRED):
   * only the enrollment screens work, and `me` holds no profile.
   */
  restricted: boolean;
  reload: () => Promise<void>;
  signOut: () => Promise<void>;
}

export function useAccount(): AccountContext {
  return useOutletContext<AccountContext>();
}
