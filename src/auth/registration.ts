/**
 * The registration policy (REGISTRATION, docs/ACCOUNT_SECURITY.md "Registration and
 * invitations"): who may create an account through POST /api/auth/register. Invitations
 * (src/security/invitations/) work under every policy.
 */
import { AppError } from '../http/errors.js';

export type RegistrationMode = 'open' | 'invite' | 'closed';

/** REGISTRATION, or its default: invite in production (a single-owner site), open elsewhere. */
export function registrationMode(config: {
  REGISTRATION?: RegistrationMode | undefined;
  NODE_ENV: string;
}): RegistrationMode {
  return config.REGISTRATION ?? (config.NODE_ENV === 'production' ? 'invite' : 'open');
}

export function registrationClosed(mode: RegistrationMode): AppError {
  return new AppError(
    403,
    'REGISTRATION_CLOSED',
    'Registration closed',
    mode === 'invite' ? 'New accounts are created by invitation only' : 'This site does not accept new accounts',
  );
}
