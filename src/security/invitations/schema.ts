import { Type, type Static } from 'typebox';
import { Email } from '../../auth/schema.js';
import { PASSWORD_MAX_LENGTH } from '../../users/password.js';

/** Any short string: `validateRoleNames` (src/users/policy.ts) decides what is a role (400 UNKNOWN_ROLE). */
const RoleName = Type.String({ minLength: 1, maxLength: 100 });

export const CreateInvitationBody = Type.Object(
  {
    email: Email,
    roles: Type.Array(RoleName, { minItems: 1, maxItems: 20 }),
  },
  { additionalProperties: false },
);
export type CreateInvitationBody = Static<typeof CreateInvitationBody>;

export const Invitation = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  roles: Type.Array(Type.String()),
  invitedBy: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
    description: 'The admin who invited; null for the CLI (an operator)',
  }),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  state: Type.Union([
    Type.Literal('pending'),
    Type.Literal('accepted'),
    Type.Literal('revoked'),
    Type.Literal('expired'),
  ]),
  acceptedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  accountExists: Type.Optional(
    Type.Boolean({
      description: 'Whether the email has an account now (an open invitation for it cannot be accepted)',
    }),
  ),
});

export const AcceptInvitationBody = Type.Object(
  {
    // Any string up to a size cap: a malformed token is answered like an unknown one.
    token: Type.String({ minLength: 1, maxLength: 200 }),
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH * 4 }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
  },
  { additionalProperties: false },
);
export type AcceptInvitationBody = Static<typeof AcceptInvitationBody>;

export const AcceptedUser = Type.Object({
  user: Type.Object({
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    name: Type.String(),
    role: Type.String(),
    roles: Type.Array(Type.String()),
    emailVerified: Type.Boolean(),
  }),
});
