import { Type, type Static } from 'typebox';
import { PASSWORD_MAX_LENGTH } from '../users/password.js';

// Password length limits are checked by the policy (with a clear message); the schema only
// caps the size so a megabyte "password" never reaches argon2.
const Password = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH * 4 });
export const Email = Type.String({ format: 'email', maxLength: 254 });

export const RegisterBody = Type.Object(
  { email: Email, password: Password, name: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
export type RegisterBody = Static<typeof RegisterBody>;

export const LoginBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 254 }), password: Password },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const RefreshBody = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 4096 }) },
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
    createdAt: Type.String({ format: 'date-time' }),
  }),
});

export const TokenPairResponse = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Access token lifetime in seconds' }),
});
