import { Type, type Static } from 'typebox';
import { EMAIL_MAX_LENGTH } from '../../users/email.js';
import { OptionalPairFields } from '../../auth/schema.js';

/** Names and emails go into mail headers: no control characters, no line or paragraph separators. */
const NO_CONTROL = '^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$';

export const CONTACT_LIMITS = { name: 100, email: 254, message: 5000, website: 200 } as const;

export const ContactParams = Type.Object(
  { slug: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const ContactBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: CONTACT_LIMITS.name,
      pattern: NO_CONTROL,
      description: 'Who is writing',
    }),
    email: Type.String({
      minLength: 3,
      maxLength: CONTACT_LIMITS.email,
      pattern: NO_CONTROL,
      description: 'Where the owner can answer (Reply-To)',
    }),
    message: Type.String({ minLength: 1, maxLength: CONTACT_LIMITS.message }),
    website: Type.Optional(
      Type.String({
        maxLength: CONTACT_LIMITS.website,
        description: 'Leave empty: a field hidden from people, filled only by bots',
      }),
    ),
    privacyNoticeVersion: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: NO_CONTROL,
        description:
          'The version of the privacy notice the sender accepted (GET /api/public/privacy); required when the site has one (400 PRIVACY_NOTICE_NOT_ACCEPTED)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ContactBody = Static<typeof ContactBody>;

export const Accepted = Type.Object(
  { status: Type.Literal('accepted'), detail: Type.String() },
  { description: 'Accepted for delivery' },
);

export const TokenBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200, description: 'The token from the link in the mail' }) },
  { additionalProperties: false },
);

export const Unlocked = Type.Object({ status: Type.Literal('unlocked') });

/** New passwords: the policy (length, common passwords) is checked with a clear message; this only caps the size. */
const NewPassword = Type.String({ minLength: 1, maxLength: 512 });
const EmailField = Type.String({ minLength: 1, maxLength: EMAIL_MAX_LENGTH, description: 'The account email' });

export const EmailBody = Type.Object({ email: EmailField }, { additionalProperties: false });

export const ResetBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200, description: 'The token from the reset link' }),
    newPassword: NewPassword,
  },
  { additionalProperties: false },
);

export const ChangeBody = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 512 }), newPassword: NewPassword },
  { additionalProperties: false },
);

export const StatusOnly = (status: string) => Type.Object({ status: Type.Literal(status) });

export const ChangeResponse = Type.Object({
  status: Type.Literal('changed'),
  endedSessions: Type.Integer({ description: 'Other sessions that were signed out' }),
  ...OptionalPairFields,
});

export const NotMeResponse = Type.Object({
  status: Type.Literal('secured'),
  sessionRevoked: Type.Boolean(),
  resetToken: Type.String({ description: 'Use with POST /api/auth/password/reset' }),
  resetExpiresIn: Type.Integer(),
});
