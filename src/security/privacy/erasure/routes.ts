/**
 * Erasure routes (docs/PRIVACY.md "Erasure"): the account's own request (step-up: a recent
 * sign-in, the password, and a second factor when one is set up), its cancel link, and an
 * admin's order (user:manage, step-up).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Problem, IdParams } from '../../../http/common-schemas.js';
import { actorOf } from '../../../http/request-identity.js';
import { requirePermission } from '../../../users/policy.js';
import { verifyPassword } from '../../../users/password.js';
import { accountErrors } from '../../accounts/errors.js';
import { AUDIT_ACTIONS } from '../../audit/actions.js';
import type { FactorInput } from '../../mfa/core.js';
import { erasureErrors } from './errors.js';
import { Cancelled, CancelBody, EraseAccountBody, ErasureScheduled } from './schema.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 415: Problem, 429: Problem };

function factorOf(body: EraseAccountBody): FactorInput | null {
  if (body.code !== undefined && body.backupCode === undefined) return { code: body.code };
  if (body.backupCode !== undefined && body.code === undefined) return { backupCode: body.backupCode };
  return null;
}

export const erasureRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.delete(
    '/api/account',
    {
      onRequest: [app.authenticate, app.requireRecentAuth],
      schema: {
        tags: ['account'],
        security: [{ bearerAuth: [] }],
        summary: 'Erase your account after ACCOUNT_DELETION_GRACE_DAYS (password, and a code when MFA is set up)',
        description:
          'Needs a recent sign-in (401 REAUTH_REQUIRED), the password (401 INVALID_CREDENTIALS) and, when MFA is set up, a current code or a backup code (401 MFA_CODE_REQUIRED, MFA_CODE_INVALID). Every session is signed out; the mailed link or signing in cancels until the scheduled time. 409 LAST_USER_MANAGER.',
        body: EraseAccountBody,
        response: { 202: ErasureScheduled, ...errors },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const context = app.audit.contextOf(request);
      const user = await app.users.repo.get(actor.userId);
      if (!user) throw erasureErrors.notFound();
      if (!(await verifyPassword(user.passwordHash, request.body.password))) {
        await app.audit.record({
          action: AUDIT_ACTIONS.privacyErasureRequested,
          actor: actor.userId,
          outcome: 'failure',
          target: { type: 'user', id: actor.userId },
          metadata: { reason: 'password' },
          ...context,
        });
        throw erasureErrors.passwordInvalid();
      }
      if ((await app.mfa.loginMethods(actor.userId)).length > 0) {
        const factor = factorOf(request.body);
        if (!factor) throw erasureErrors.mfaRequired();
        await app.mfa.checkFactor(actor.userId, factor, context, 'account_erasure');
      }
      const scheduled = await app.privacyErasure.request(actor.userId, { actorId: actor.userId, context }, false);
      return reply.status(202).send({ status: scheduled.status, scheduledFor: scheduled.scheduledFor });
    },
  );

  app.post(
    '/api/account/deletion/cancel',
    {
      schema: {
        tags: ['account'],
        summary: 'Cancel a pending erasure of your account with the mailed link (signing in cancels it too)',
        body: CancelBody,
        response: { 200: Cancelled, 400: Problem, 415: Problem, 429: Problem },
      },
    },
    async (request) => {
      if (!(await app.privacyErasure.cancelWithToken(request.body.token, app.audit.contextOf(request))))
        throw accountErrors.invalidToken();
      return { status: 'cancelled' as const };
    },
  );

  app.delete(
    '/api/admin/users/:id',
    {
      onRequest: [app.authenticate, app.requireRecentAuth],
      schema: {
        tags: ['admin'],
        security: [{ bearerAuth: [] }],
        summary: 'Erase a user after ACCOUNT_DELETION_GRACE_DAYS; the account is disabled at once',
        description:
          'user:manage and a recent sign-in. Re-enabling the account (PATCH disabled: false) before the scheduled time cancels. 404 USER_NOT_FOUND; 409 CANNOT_ERASE_OWN_ACCOUNT (use DELETE /api/account), LAST_USER_MANAGER.',
        params: IdParams,
        response: { 202: ErasureScheduled, ...errors },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      requirePermission(actor, 'user:manage');
      if (request.params.id === actor.userId) throw erasureErrors.ownAccount();
      const scheduled = await app.privacyErasure.request(
        request.params.id,
        { actorId: actor.userId, context: app.audit.contextOf(request) },
        true,
      );
      return reply.status(202).send({ status: scheduled.status, scheduledFor: scheduled.scheduledFor });
    },
  );
};
