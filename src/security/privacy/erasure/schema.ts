import { Type, type Static } from 'typebox';
import { PASSWORD_MAX_LENGTH } from '../../../users/password.js';

export const EraseAccountBody = Type.Object(
  {
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH * 4 }),
    code: Type.Optional(Type.String({ pattern: '^[0-9]{6}$', description: 'a current TOTP code (MFA set up)' })),
    backupCode: Type.Optional(
      Type.String({ minLength: 1, maxLength: 32, description: 'or a backup code (MFA set up)' }),
    ),
  },
  { additionalProperties: false },
);
export type EraseAccountBody = Static<typeof EraseAccountBody>;

export const ErasureScheduled = Type.Object({
  status: Type.Literal('scheduled'),
  scheduledFor: Type.String({
    format: 'date-time',
    description: 'When the account is erased (ACCOUNT_DELETION_GRACE_DAYS after the first request)',
  }),
});

export const CancelBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200, description: 'The token from the link in the mail' }) },
  { additionalProperties: false },
);

export const Cancelled = Type.Object({ status: Type.Literal('cancelled') });
