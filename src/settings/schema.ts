/**
 * The site settings' schema (TypeBox): each setting's type and bounds, the PATCH body (unknown keys
 * refused, `null` puts a setting back to its default) and the GET answer (each setting's value and
 * the source that won: `env`, `database` or `default`).
 */
import { Type, type Static, type TSchema } from 'typebox';
import { LanguageCodeInput } from '../content/languages/schema.js';
import { EMAIL_MAX_LENGTH } from '../users/email.js';

/** 1-64 characters, no control characters, no ":" (it is also the otpauth issuer). */
export const SiteName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[^:\\t\\n\\r]*[^:\\s][^:\\t\\n\\r]*$',
  description: 'The site name: mail subjects and signatures, and the issuer shown by authenticator apps (no ":")',
  examples: ['Ana Lima — Portfolio'],
});

export const ContactRecipient = Type.String({
  minLength: 3,
  maxLength: EMAIL_MAX_LENGTH,
  description: 'Where contact-form messages of every portfolio go; unset (null): to each portfolio owner',
  examples: ['hello@example.com'],
});

export const PublicCacheMaxAge = Type.Integer({
  minimum: 0,
  maximum: 86_400,
  description: 'Cache-Control max-age of public reads, in seconds (0: always revalidate)',
});

/** The privacy notice served at /privacy when PRIVACY_NOTICE_FILE is not set (plain text, escaped; docs/PRIVACY.md). */
export const PrivacyNoticeText = Type.String({
  minLength: 1,
  maxLength: 50_000,
  pattern: '\\S',
  description:
    'The privacy notice (plain text; blank lines separate paragraphs) served at /privacy; changing it is a new version contact senders accept. PRIVACY_NOTICE_FILE wins when set',
});

/** The settings, their defaults and the environment variable that pins each (if any). */
export const SETTING_KEYS = [
  'siteName',
  'contactRecipient',
  'defaultLanguage',
  'publicCacheMaxAge',
  'privacyNotice',
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

export const SettingsPatch = Type.Object(
  {
    siteName: Type.Optional(Type.Union([SiteName, Type.Null()])),
    contactRecipient: Type.Optional(Type.Union([ContactRecipient, Type.Null()])),
    defaultLanguage: Type.Optional(LanguageCodeInput),
    publicCacheMaxAge: Type.Optional(Type.Union([PublicCacheMaxAge, Type.Null()])),
    privacyNotice: Type.Optional(Type.Union([PrivacyNoticeText, Type.Null()])),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    title: 'SettingsPatch',
    description:
      'The settings to change; null puts one back to its default (defaultLanguage names an enabled language)',
  },
);
export type SettingsPatch = Static<typeof SettingsPatch>;

const Source = Type.Union([Type.Literal('env'), Type.Literal('database'), Type.Literal('default')], {
  description: 'Which source won: an environment variable, the value an admin saved, or the default',
});

const Entry = <T extends TSchema>(value: T) =>
  Type.Object(
    {
      value,
      source: Source,
      env: Type.Union([Type.String(), Type.Null()], {
        description: 'The environment variable that pins this setting when set (null: none)',
      }),
      default: Type.Union([value, Type.Null()]),
    },
    { additionalProperties: false },
  );

export const SettingsView = Type.Object(
  {
    siteName: Entry(Type.String()),
    contactRecipient: Entry(Type.Union([Type.String(), Type.Null()])),
    defaultLanguage: Entry(Type.String()),
    publicCacheMaxAge: Entry(Type.Integer()),
    privacyNotice: Entry(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: false, title: 'Settings' },
);
export type SettingsView = Static<typeof SettingsView>;
