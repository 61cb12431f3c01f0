import { Type, type Static } from 'typebox';
import { PASSWORD_MAX_LENGTH } from '../users/password.js';
import { EMAIL_MAX_LENGTH } from '../users/email.js';

// Password length limits are checked by the policy (with a clear message); the schema only
// caps the size so a megabyte "password" never reaches argon2.
const Password = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH * 4 });
export const Email = Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH });

export const RegisterBody = Type.Object(
  { email: Email, password: Password, name: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
export type RegisterBody = Static<typeof RegisterBody>;

export const LoginBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: EMAIL_MAX_LENGTH }), password: Password },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

// Optional in browser mode, where the refresh token arrives as a cookie. Over-long tokens are
// answered 401 like any other bad token, not 400, so the limit here is only a size cap.
export const RefreshBody = Type.Object(
  { refreshToken: Type.Optional(Type.String({ minLength: 1, maxLength: 32_768 })) },
  { additionalProperties: false },
);

export const UserSummary = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  role: Type.String(),
});

export const MeResponse = Type.Object({
  user: Type.Object({
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    name: Type.String(),
    role: Type.String(),
    roles: Type.Array(Type.String()),
    permissions: Type.Array(Type.String()),
    mustChangePassword: Type.Boolean(),
    emailVerified: Type.Boolean({ description: 'The owner followed a link mailed to the address' }),
    emailVerifiedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
  }),
});

export const TokenPairResponse = Type.Object({
  accessToken: Type.Optional(
    Type.String({ description: 'Absent in browser mode (AUTH_COOKIES=true): sent as a cookie' }),
  ),
  refreshToken: Type.Optional(
    Type.String({ description: 'Absent in browser mode (AUTH_COOKIES=true): sent as a cookie' }),
  ),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Access token lifetime in seconds' }),
  refreshExpiresIn: Type.Integer({ description: 'Refresh token lifetime in seconds' }),
  sessionId: Type.String({ format: 'uuid' }),
});

/**
 * The login answer: a token pair, or (with MFA) a challenge to complete at /api/auth/mfa/verify.
 * Every field is optional so gates can extend it; the pair fields are present when no gate
 * asked for more.
 */
/** The fields of a token pair, each optional (browser mode moves the tokens into cookies). */
export const OptionalPairFields = {
  accessToken: Type.Optional(Type.String()),
  refreshToken: Type.Optional(Type.String()),
  tokenType: Type.Optional(Type.Literal('Bearer')),
  expiresIn: Type.Optional(Type.Integer()),
  refreshExpiresIn: Type.Optional(Type.Integer()),
  sessionId: Type.Optional(Type.String({ format: 'uuid' })),
};

export const LoginResponse = Type.Object({
  ...OptionalPairFields,
  mfaRequired: Type.Optional(Type.Boolean()),
  mfaToken: Type.Optional(Type.String()),
  methods: Type.Optional(Type.Array(Type.String())),
  mfaEnrollmentRequired: Type.Optional(Type.Boolean()),
  enrollBy: Type.Optional(Type.String({ format: 'date-time' })),
  passwordChangeRequired: Type.Optional(Type.Boolean()),
  deviceToken: Type.Optional(Type.String()),
  /** This sign-in cancelled the account's pending erasure (docs/PRIVACY.md). */
  accountDeletionCancelled: Type.Optional(Type.Boolean()),
});
