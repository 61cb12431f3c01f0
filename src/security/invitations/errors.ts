import { AppError } from '../../http/errors.js';

/**
 * Problem codes of invitations (stable: clients and docs rely on them). The holder of a real
 * invitation link learns what became of it (used, expired, withdrawn); anything else, including
 * an invitation whose email has meanwhile got an account, is one INVITATION_INVALID.
 */
export const invitationErrors = {
  invalid: () => new AppError(400, 'INVITATION_INVALID', 'Invalid invitation', 'This invitation link is not valid'),
  used: () => new AppError(410, 'INVITATION_USED', 'Invitation already used', 'This invitation was already accepted'),
  expired: () =>
    new AppError(410, 'INVITATION_EXPIRED', 'Invitation expired', 'This invitation has expired: ask for a new one'),
  revoked: () =>
    new AppError(410, 'INVITATION_REVOKED', 'Invitation withdrawn', 'This invitation was withdrawn: ask for a new one'),
  notFound: () => new AppError(404, 'INVITATION_NOT_FOUND', 'Not found', 'Invitation not found'),
  alreadyAccepted: () =>
    new AppError(
      409,
      'INVITATION_ACCEPTED',
      'Conflict',
      'This invitation was already accepted: manage the account instead',
    ),
  emailTaken: () =>
    new AppError(
      409,
      'EMAIL_TAKEN',
      'Conflict',
      'An account with this email already exists: change its roles under /api/admin/users/:id',
    ),
  concurrent: () =>
    new AppError(409, 'INVITATION_CONFLICT', 'Conflict', 'Another invitation for this email was just created'),
};
