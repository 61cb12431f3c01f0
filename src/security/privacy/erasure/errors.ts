import { AppError } from '../../../http/errors.js';

/** Error codes of account erasure (stable: clients and docs/PRIVACY.md rely on them). */
export const erasureErrors = {
  /** The password of DELETE /api/account is wrong (the same code as the other password checks). */
  passwordInvalid: () => new AppError(401, 'INVALID_CREDENTIALS', 'Unauthorized', 'The password is incorrect'),
  /** MFA is set up: the request needs a current code or a backup code too. */
  mfaRequired: () =>
    new AppError(
      401,
      'MFA_CODE_REQUIRED',
      'Unauthorized',
      'Two-step sign-in is set up on this account: send a current code or a backup code with the password',
    ),
  /** The last enabled holder of user:manage cannot be erased (nobody could manage users after it). */
  lastManager: () =>
    new AppError(
      409,
      'LAST_USER_MANAGER',
      'Conflict',
      'This would leave no enabled account holding user:manage: grant it to another account first',
    ),
  /** An admin erasing their own account goes through DELETE /api/account (password, MFA). */
  ownAccount: () =>
    new AppError(409, 'CANNOT_ERASE_OWN_ACCOUNT', 'Conflict', 'Use DELETE /api/account to erase your own account'),
  notFound: () => new AppError(404, 'USER_NOT_FOUND', 'Not found', 'User not found'),
};
