import { Type, type Static } from 'typebox';
import { PASSWORD_MAX_LENGTH } from '../../users/password.js';

const Password = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH * 4 });
/** Six digits; the pattern keeps anything else away from the HMAC. */
const TotpCode = Type.String({ pattern: '^[0-9]{6}$', description: 'six-digit TOTP code' });
const BackupCode = Type.String({
  minLength: 1,
  maxLength: 32,
  description: 'a backup code, e.g. ABCDE-FGHJK (case and dashes ignored)',
});
const MfaToken = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'the mfaToken from the login response' });

/**
 * A WebAuthn credential as the browser serialises it (`PublicKeyCredential.toJSON()`); the
 * library checks the contents, the schema bounds the size and the outer shape.
 */
const b64u = (max: number) => Type.String({ maxLength: max, pattern: '^[A-Za-z0-9_-]*={0,2}$' });
export const WebauthnResponse = Type.Object(
  {
    id: b64u(1024),
    rawId: b64u(1024),
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: b64u(8192),
        attestationObject: Type.Optional(b64u(65536)),
        authenticatorData: Type.Optional(b64u(8192)),
        signature: Type.Optional(b64u(2048)),
        userHandle: Type.Optional(Type.Union([b64u(1024), Type.Null()])),
        transports: Type.Optional(Type.Array(Type.String({ maxLength: 20 }), { maxItems: 10 })),
        publicKey: Type.Optional(b64u(8192)),
        publicKeyAlgorithm: Type.Optional(Type.Integer()),
        authenticatorAttachment: Type.Optional(Type.String({ maxLength: 40 })),
      },
      { additionalProperties: false },
    ),
    authenticatorAttachment: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
    clientExtensionResults: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 20 }),
  },
  { additionalProperties: false },
);

export const PasswordBody = Type.Object({ password: Password }, { additionalProperties: false });
export const ConfirmBody = Type.Object({ code: TotpCode }, { additionalProperties: false });

/** Password plus one current second factor: a TOTP code or a backup code. */
export const PasswordFactorBody = Type.Object(
  { password: Password, code: Type.Optional(TotpCode), backupCode: Type.Optional(BackupCode) },
  { additionalProperties: false },
);
export type PasswordFactorBody = Static<typeof PasswordFactorBody>;

export const VerifyBody = Type.Object(
  {
    mfaToken: MfaToken,
    code: Type.Optional(TotpCode),
    backupCode: Type.Optional(BackupCode),
    passkey: Type.Optional(WebauthnResponse),
    rememberDevice: Type.Optional(Type.Boolean()),
    deviceName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type VerifyBody = Static<typeof VerifyBody>;

export const MfaTokenBody = Type.Object({ mfaToken: MfaToken }, { additionalProperties: false });

export const EnrollResponse = Type.Object({
  secret: Type.String({ description: 'base32, for typing into an app by hand' }),
  otpauthUri: Type.String(),
  qrCode: Type.String({ description: 'PNG data URL of the otpauth URI' }),
});

export const BackupCodesResponse = Type.Object({
  backupCodes: Type.Array(Type.String(), { description: 'shown once; store them somewhere safe' }),
});

const MethodName = Type.Union([Type.Literal('totp'), Type.Literal('passkey'), Type.Literal('backup_code')]);

export const StatusResponse = Type.Object({
  enabled: Type.Boolean(),
  methods: Type.Array(MethodName),
  totp: Type.Object({ enabled: Type.Boolean(), pending: Type.Boolean() }),
  passkeys: Type.Integer(),
  backupCodes: Type.Object({ remaining: Type.Integer(), total: Type.Integer() }),
  trustedDevices: Type.Integer(),
  enrollment: Type.Object({
    required: Type.Boolean(),
    enrollBy: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }),
});

export const Device = Type.Object({
  id: Type.String({ format: 'uuid' }),
  current: Type.Boolean({ description: 'The device this request comes from (its cookie or X-Device-Token)' }),
  label: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  expiresAt: Type.String({ format: 'date-time' }),
});

export const Passkey = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  deviceType: Type.String(),
  backedUp: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const PasskeyRegisterBody = Type.Object(
  { response: WebauthnResponse, name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  { additionalProperties: false },
);
export const PasskeyRenameBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'not blank' }) },
  { additionalProperties: false },
);
export const PasskeySignInBody = Type.Object({ response: WebauthnResponse }, { additionalProperties: false });

/** WebAuthn options as JSON for `navigator.credentials.create/get` (shape defined by the spec). */
export const WebauthnOptions = Type.Record(Type.String(), Type.Unknown(), {
  description: 'PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON',
});

export const ResetResponse = Type.Object({
  removed: Type.Object({
    totp: Type.Boolean(),
    passkeys: Type.Integer(),
    backupCodes: Type.Integer(),
    devices: Type.Integer(),
  }),
});
