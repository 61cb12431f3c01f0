/**
 * MFA endpoints. Guards in one fixed order per route: authentication (with `allowRestricted` on
 * the few routes a token restricted to enrollment may call), step-up for the sensitive ones,
 * then body validation, then the service.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { actorOf, clientFingerprintOf } from '../../http/request-identity.js';
import { LoginResponse } from '../../auth/schema.js';
import { IdParams, Problem } from '../../http/common-schemas.js';
import { httpErrors } from '../../http/errors.js';
import { requirePermission } from '../../users/policy.js';
import { mfaErrors } from './errors.js';
import type { FactorInput } from './core.js';
import {
  BackupCodesResponse,
  ConfirmBody,
  Device,
  EnrollResponse,
  MfaTokenBody,
  Passkey,
  PasskeyRegisterBody,
  PasskeyRenameBody,
  PasskeySignInBody,
  PasswordBody,
  PasswordFactorBody,
  ResetResponse,
  StatusResponse,
  VerifyBody,
  WebauthnOptions,
} from './schema.js';

/** Browser mode keeps the device token in an httpOnly cookie scoped to the auth routes. */
export const DEVICE_COOKIE = '__Secure-mfa-device';
/** API clients send the device token they were given in this header when they log in. */
export const DEVICE_HEADER = 'x-device-token';
const DEVICE_COOKIE_PATH = '/api/auth';

const tags = ['mfa'];
const security = [{ bearerAuth: [] }];
const errors = { 400: Problem, 401: Problem, 403: Problem, 409: Problem, 415: Problem, 429: Problem, 503: Problem };
const enrollmentAllowed = { allowRestricted: ['mfa_enrollment'] as const };

export const VerifyResponse = Type.Object({
  ...LoginResponse.properties,
  backupCodesRemaining: Type.Optional(Type.Integer({ description: 'present when a backup code was used' })),
});

/** Exactly one of code / backupCode (and, for verify, passkey). */
function factorOf(body: { code?: string | undefined; backupCode?: string | undefined }): FactorInput {
  if (body.code !== undefined && body.backupCode === undefined) return { code: body.code };
  if (body.backupCode !== undefined && body.code === undefined) return { backupCode: body.backupCode };
  throw httpErrors.validation('Send exactly one of code or backupCode', [
    { path: '/code', message: 'exactly one of code, backupCode' },
  ]);
}

/** The device token a login presents: the cookie (browsers) or the header (API clients). */
export function deviceTokenOf(request: FastifyRequest): string | null {
  const header = request.headers[DEVICE_HEADER];
  if (typeof header === 'string' && header !== '') return header;
  const cookies = (request as { cookies?: Record<string, string | undefined> }).cookies;
  const fromCookie = cookies?.[DEVICE_COOKIE];
  return typeof fromCookie === 'string' && fromCookie !== '' ? fromCookie : null;
}

export const mfaRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const contextOf = (request: FastifyRequest) => app.audit.contextOf(request);
  const bindingOf = (request: FastifyRequest) => clientFingerprintOf(request);

  function setDeviceCookie(reply: FastifyReply, token: string, expiresAt: Date): void {
    void reply.setCookie(DEVICE_COOKIE, token, {
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      path: DEVICE_COOKIE_PATH,
      expires: expiresAt,
    });
  }

  // ---- status and TOTP enrollment ------------------------------------------------------------

  app.get(
    '/api/auth/mfa',
    {
      onRequest: app.authenticate,
      config: enrollmentAllowed,
      schema: {
        tags,
        security,
        summary: 'MFA status: methods, backup codes left, trusted devices',
        response: { 200: StatusResponse, ...errors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      return app.mfa.status(actor.userId, actor.roles);
    },
  );

  app.post(
    '/api/auth/mfa/totp/enroll',
    {
      onRequest: app.authenticate,
      config: enrollmentAllowed,
      schema: {
        tags,
        security,
        summary: 'Start TOTP enrollment (password required): the secret, its otpauth URI and a QR code',
        body: PasswordBody,
        response: { 200: EnrollResponse, ...errors },
      },
    },
    async (request) => app.mfa.startTotpEnrollment(actorOf(request).userId, request.body.password, contextOf(request)),
  );

  app.post(
    '/api/auth/mfa/totp/confirm',
    {
      onRequest: app.authenticate,
      config: enrollmentAllowed,
      schema: {
        tags,
        security,
        summary: 'Confirm TOTP with a first code: turns MFA on and returns 10 backup codes (shown once)',
        body: ConfirmBody,
        response: { 200: BackupCodesResponse, ...errors },
      },
    },
    async (request) => app.mfa.confirmTotp(actorOf(request).userId, request.body.code, contextOf(request)),
  );

  app.post(
    '/api/auth/mfa/disable',
    {
      onRequest: [app.authenticate, app.requireRecentAuth],
      schema: {
        tags,
        security,
        summary: 'Turn MFA off (password and a current code; recent sign-in required)',
        body: PasswordFactorBody,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await app.mfa.disable(actorOf(request).userId, request.body.password, factorOf(request.body), contextOf(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/auth/mfa/backup-codes',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        security,
        summary: 'New backup codes (password and a current code); the old set stops working',
        body: PasswordFactorBody,
        response: { 200: BackupCodesResponse, ...errors },
      },
    },
    async (request) =>
      app.mfa.regenerateBackupCodes(
        actorOf(request).userId,
        request.body.password,
        factorOf(request.body),
        contextOf(request),
      ),
  );

  // ---- the second step of a login -------------------------------------------------------------

  app.post(
    '/api/auth/mfa/verify',
    {
      schema: {
        tags,
        summary: 'Second step of a login: the mfaToken with a TOTP code, a backup code or a passkey assertion',
        description: `Answers the token pair like a login. The mfaToken lives 5 minutes, works once, only from the client that logged in, and dies after 5 wrong codes. rememberDevice issues a device token (cookie \`${DEVICE_COOKIE}\` in browser mode, else \`deviceToken\` to send as \`X-Device-Token\` on later logins).`,
        body: VerifyBody,
        response: { 200: VerifyResponse, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const given = [body.code, body.backupCode, body.passkey].filter((v) => v !== undefined).length;
      if (given !== 1)
        throw httpErrors.validation('Send exactly one of code, backupCode or passkey', [
          { path: '/code', message: 'exactly one of code, backupCode, passkey' },
        ]);
      const ctx = contextOf(request);
      const binding = bindingOf(request);
      const { userId, factor } = body.passkey
        ? await app.passkeys.verifySecondFactor(
            body.mfaToken,
            body.passkey as unknown as AuthenticationResponseJSON,
            binding,
            ctx,
          )
        : await app.mfa.verifyLogin(body.mfaToken, factorOf(body), binding, ctx);
      const extra: Record<string, unknown> = {};
      if (factor.backupCodesRemaining !== undefined) extra['backupCodesRemaining'] = factor.backupCodesRemaining;
      if (body.rememberDevice === true) {
        const ua = ctx.userAgent ?? 'unknown device';
        const device = await app.mfa.trustDevice(userId, body.deviceName ?? ua, ctx);
        if (request.browserMode) setDeviceCookie(reply, device.deviceToken, device.expiresAt);
        else extra['deviceToken'] = device.deviceToken;
      }
      return app.auth.completeLogin(request, userId, { amr: ['pwd', ...factor.amr], extra });
    },
  );

  // ---- trusted devices ------------------------------------------------------------------------

  app.get(
    '/api/auth/mfa/devices',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        security,
        summary: 'Devices that skip the second factor (`current`: the one this request comes from)',
        response: { 200: Type.Object({ items: Type.Array(Device) }), ...errors },
      },
    },
    async (request) => {
      const userId = actorOf(request).userId;
      const [rows, currentId] = await Promise.all([
        app.mfa.listDevices(userId),
        app.mfa.currentDeviceId(userId, deviceTokenOf(request)),
      ]);
      return {
        items: rows.map((d) => ({
          id: d.id,
          current: d.id === currentId,
          label: d.label,
          createdAt: d.createdAt.toISOString(),
          lastUsedAt: d.lastUsedAt ? d.lastUsedAt.toISOString() : null,
          expiresAt: d.expiresAt.toISOString(),
        })),
      };
    },
  );

  app.delete(
    '/api/auth/mfa/devices/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        security,
        summary: 'Forget one trusted device',
        params: IdParams,
        response: { 204: Type.Null(), 404: Problem, ...errors },
      },
    },
    async (request, reply) => {
      if (!(await app.mfa.revokeDevice(actorOf(request).userId, request.params.id, contextOf(request))))
        throw httpErrors.notFound('Device');
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/api/auth/mfa/devices',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        security,
        summary: 'Forget every trusted device (`?keepCurrent=true`: every one but the device this request comes from)',
        querystring: Type.Object(
          { keepCurrent: Type.Optional(Type.Boolean({ default: false })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ revoked: Type.Integer() }), ...errors },
      },
    },
    async (request) => {
      const userId = actorOf(request).userId;
      const keep =
        request.query.keepCurrent === true ? await app.mfa.currentDeviceId(userId, deviceTokenOf(request)) : null;
      return { revoked: await app.mfa.revokeAllDevices(userId, contextOf(request), 'user', keep) };
    },
  );

  // ---- passkeys -------------------------------------------------------------------------------

  app.post(
    '/api/auth/mfa/passkeys/options',
    {
      onRequest: app.authenticate,
      config: enrollmentAllowed,
      schema: {
        tags,
        security,
        summary: 'Options for navigator.credentials.create() to register a passkey',
        response: { 200: WebauthnOptions, ...errors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const user = await app.users.repo.get(actor.userId);
      if (!user) throw httpErrors.unauthorized();
      return app.passkeys.registrationOptions(
        { id: user.id, email: user.email },
        bindingOf(request),
      ) as unknown as Record<string, unknown>;
    },
  );

  app.post(
    '/api/auth/mfa/passkeys',
    {
      onRequest: app.authenticate,
      config: enrollmentAllowed,
      schema: {
        tags,
        security,
        summary: 'Register a passkey (the response of navigator.credentials.create())',
        body: PasskeyRegisterBody,
        response: {
          201: Type.Object({ passkey: Passkey, backupCodes: Type.Optional(Type.Array(Type.String())) }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const result = await app.passkeys.register(
        actorOf(request).userId,
        request.body.response as unknown as RegistrationResponseJSON,
        request.body.name,
        bindingOf(request),
        contextOf(request),
      );
      return reply.status(201).send(result);
    },
  );

  app.get(
    '/api/auth/mfa/passkeys',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        security,
        summary: 'Registered passkeys',
        response: { 200: Type.Object({ items: Type.Array(Passkey) }), ...errors },
      },
    },
    async (request) => ({ items: await app.passkeys.list(actorOf(request).userId) }),
  );

  app.patch(
    '/api/auth/mfa/passkeys/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        security,
        summary: 'Rename a passkey',
        params: IdParams,
        body: PasskeyRenameBody,
        response: { 200: Type.Object({ passkey: Passkey }), 404: Problem, ...errors },
      },
    },
    async (request) => {
      const passkey = await app.passkeys.rename(
        actorOf(request).userId,
        request.params.id,
        request.body.name,
        contextOf(request),
      );
      // Another user's passkey answers exactly like a missing one.
      if (!passkey) throw httpErrors.notFound('Passkey');
      return { passkey };
    },
  );

  app.delete(
    '/api/auth/mfa/passkeys/:id',
    {
      onRequest: [app.authenticate, app.requireRecentAuth],
      schema: {
        tags,
        security,
        summary: 'Remove a passkey (recent sign-in required)',
        params: IdParams,
        response: { 204: Type.Null(), 404: Problem, ...errors },
      },
    },
    async (request, reply) => {
      if (!(await app.passkeys.remove(actorOf(request).userId, request.params.id, contextOf(request))))
        throw httpErrors.notFound('Passkey');
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/auth/mfa/passkeys/challenge',
    {
      schema: {
        tags,
        summary:
          'Options for navigator.credentials.get() to use a passkey as the second factor of the login behind mfaToken',
        body: MfaTokenBody,
        response: { 200: WebauthnOptions, ...errors },
      },
    },
    async (request) =>
      app.passkeys.secondFactorOptions(request.body.mfaToken, bindingOf(request)) as unknown as Record<string, unknown>,
  );

  app.post(
    '/api/auth/passkey/options',
    {
      schema: {
        tags,
        summary: 'Passwordless sign-in, step 1: options for navigator.credentials.get()',
        response: { 200: WebauthnOptions, ...errors },
      },
    },
    async (request) => app.passkeys.signInOptions(bindingOf(request)) as unknown as Record<string, unknown>,
  );

  app.post(
    '/api/auth/passkey/verify',
    {
      schema: {
        tags,
        summary: 'Passwordless sign-in, step 2: the assertion; answers the token pair like a login',
        body: PasskeySignInBody,
        response: { 200: LoginResponse, ...errors },
      },
    },
    async (request) => {
      const ctx = contextOf(request);
      const { userId, amr } = await app.passkeys.signIn(
        request.body.response as unknown as AuthenticationResponseJSON,
        bindingOf(request),
        ctx,
      );
      const user = await app.users.repo.get(userId);
      // A disabled account gets the same answer as a bad passkey.
      if (!user || user.disabled) throw mfaErrors.passkeyInvalid();
      return app.auth.completeLogin(request, userId, { amr });
    },
  );

  // ---- admin ----------------------------------------------------------------------------------

  app.post(
    '/api/admin/users/:id/mfa/reset',
    {
      onRequest: [app.authenticate, app.requireRecentAuth],
      schema: {
        tags: ['admin', ...tags],
        security,
        summary: 'Remove every second factor of a user (lost device); signs them out everywhere and mails them',
        params: IdParams,
        response: { 200: ResetResponse, 404: Problem, ...errors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      requirePermission(actor, 'user:manage');
      const target = await app.users.repo.get(request.params.id);
      if (!target) throw httpErrors.notFound('User');
      return app.mfa.resetUser(actor.userId, target, contextOf(request));
    },
  );
};
