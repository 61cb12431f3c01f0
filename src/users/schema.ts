import { Type, type Static } from 'typebox';
import { Email } from '../auth/schema.js';
import { PASSWORD_MAX_LENGTH } from './password.js';
import { LANGUAGE_TAG_PATTERN, MAX_TRANSLATION_LANGUAGES } from '../content/translations.js';
import { ROLE_NAME_MAX_LENGTH, ROLE_NAME_PATTERN, ROLES } from './policy.js';

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));

/** A role name as the role table has them: a lower-case slug (checked against the table by the service). */
export const RoleName = Type.String({
  pattern: ROLE_NAME_PATTERN,
  minLength: 1,
  maxLength: ROLE_NAME_MAX_LENGTH,
  description: 'A role name: lower-case letters and digits, single hyphens between them',
  examples: ['editor', 'translator-es'],
});
/** The most roles one account may hold in one request body. */
export const MAX_ROLES_PER_USER = 20;
const RoleList = Type.Array(RoleName, { minItems: 1, maxItems: MAX_ROLES_PER_USER, uniqueItems: true });

export const AdminUser = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  role: Type.String({ description: 'The most privileged built-in role held (older clients read this)' }),
  roles: Type.Array(Type.String(), { description: 'Every role the account holds' }),
  disabled: Type.Boolean(),
  mustChangePassword: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  secondFactors: Type.Optional(
    Type.Object(
      {
        totp: Type.Boolean({ description: 'An authenticator app (TOTP) is confirmed' }),
        passkeys: Type.Integer({ minimum: 0, description: 'How many passkeys are registered' }),
      },
      { description: 'Which second factors the account has (never a secret); none: totp false and 0 passkeys' },
    ),
  ),
});

export const CreateUserBody = Type.Object(
  {
    email: Email,
    name: Type.String({ minLength: 1, maxLength: 100 }),
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH * 4 }),
    role: Type.Optional(Role),
    roles: Type.Optional({ ...RoleList, description: 'Every role of the new account (use instead of role)' }),
    mustChangePassword: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

export const UpdateUserBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    role: Type.Optional(Role),
    roles: Type.Optional({ ...RoleList, description: 'Replaces every role of the account (use instead of role)' }),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** A permission name of the catalogue (checked against it: 400 UNKNOWN_PERMISSION). */
const PermissionName = Type.String({ pattern: '^[a-z][a-z_]*:[a-z][a-z_]*$', maxLength: 64 });
/** More than the catalogue could ever hold; a longer list is refused by the schema. */
const MAX_PERMISSIONS = 64;
const PermissionList = Type.Array(PermissionName, { maxItems: MAX_PERMISSIONS, uniqueItems: true });
const LanguageList = Type.Array(Type.String({ pattern: LANGUAGE_TAG_PATTERN, maxLength: 16 }), {
  minItems: 1,
  maxItems: MAX_TRANSLATION_LANGUAGES,
  uniqueItems: true,
  description: 'Limit the role to these languages: it may change only translations.<lang> of them, nothing else',
});

export const PermissionJson = Type.Object({ name: Type.String(), description: Type.String() });
export const PermissionList200 = Type.Object({ items: Type.Array(PermissionJson) });

export const RoleJson = Type.Object({
  name: Type.String(),
  description: Type.String(),
  builtIn: Type.Boolean(),
  permissions: Type.Array(Type.String()),
  languages: Type.Union([Type.Array(Type.String()), Type.Null()]),
  userCount: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export const RoleList200 = Type.Object({ items: Type.Array(RoleJson) });

export const RoleParams = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);

export const CreateRoleBody = Type.Object(
  {
    name: RoleName,
    description: Type.String({ minLength: 1, maxLength: 200 }),
    permissions: PermissionList,
    languages: Type.Optional(Type.Union([LanguageList, Type.Null()])),
  },
  { additionalProperties: false },
);
export type CreateRoleBody = Static<typeof CreateRoleBody>;

export const UpdateRoleBody = Type.Object(
  {
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    permissions: Type.Optional(PermissionList),
    languages: Type.Optional(Type.Union([LanguageList, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateRoleBody = Static<typeof UpdateRoleBody>;

export const DeleteRoleQuery = Type.Object(
  { reassignTo: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  { additionalProperties: false },
);
