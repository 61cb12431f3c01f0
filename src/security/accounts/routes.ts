/**
 * Routes of account security: the contact form of a public portfolio, the unlock link mailed on
 * lockout, password reset and change, email verification, and "it was not me". Rate limits come
 * from the shield's policies (`contact`, `password-forgot`, `email-resend` per client; `global`
 * for everything), declared in src/security/shield/policies.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { actorOf } from '../../http/request-identity.js';
import { Problem } from '../../http/common-schemas.js';
import { httpErrors } from '../../http/errors.js';
import { accountErrors } from './errors.js';
import {
  Accepted,
  ChangeBody,
  ChangeResponse,
  ContactBody,
  ContactParams,
  EmailBody,
  NotMeResponse,
  ResetBody,
  StatusOnly,
  TokenBody,
  Unlocked,
} from './schema.js';

/** One answer for every forgot/resend request, whether or not the email has an account. */
export const FORGOT_ACCEPTED = {
  status: 'accepted' as const,
  detail: 'If an account uses this email, a message with a link is on its way.',
};
const RESEND_ACCEPTED = {
  status: 'accepted' as const,
  detail: 'If an unverified account uses this email, a new verification link is on its way.',
};
const tokenErrors = { 400: Problem, 415: Problem, 429: Problem };

const ACCEPTED = { status: 'accepted' as const, detail: 'Thank you, your message is on its way.' };

export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/public/portfolios/:slug/contact',
    {
      schema: {
        tags: ['public'],
        summary: 'Send a message to the owner of a published portfolio (rate-limited)',
        params: ContactParams,
        body: ContactBody,
        response: { 202: Accepted, 400: Problem, 404: Problem, 413: Problem, 415: Problem, 429: Problem },
      },
    },
    async (request, reply) => {
      const context = app.audit.contextOf(request);
      await app.accounts.contact.submit(request.params.slug, request.body, async (outcome, tx) => {
        await app.audit.record(
          {
            action: 'contact.message',
            actor: 'anonymous',
            outcome: outcome.kind === 'sent' ? 'success' : 'denied',
            target: { type: 'portfolio', id: outcome.target.portfolioId },
            metadata: outcome.kind === 'sent' ? { mailId: outcome.mailId } : { reason: 'honeypot' },
            ...context,
          },
          tx,
        );
      });
      // The same answer for a real message and a bot's: the honeypot must not be detectable.
      return reply.status(202).send(ACCEPTED);
    },
  );

  app.post(
    '/api/auth/unlock',
    {
      schema: {
        tags: ['auth'],
        summary: 'Lift a sign-in lockout with the one-time link mailed to the account owner',
        body: TokenBody,
        response: { 200: Unlocked, 400: Problem, 415: Problem, 429: Problem },
      },
    },
    async (request) => {
      const userId = await app.accounts.unlockWithToken(request.body.token, request);
      if (!userId) throw accountErrors.invalidToken();
      return { status: 'unlocked' as const };
    },
  );

  /**
   * Forgot password and resend verification: the same 202 and body for every email, known or
   * not. The flow answers now and does what depends on the account later (src/http/answer-now.ts).
   */
  function quietEmailRoute(
    path: string,
    summary: string,
    accepted: typeof FORGOT_ACCEPTED,
    flow: (email: string, request: FastifyRequest) => Promise<void>,
  ): void {
    app.post(
      path,
      { schema: { tags: ['auth'], summary, body: EmailBody, response: { 202: Accepted, ...tokenErrors } } },
      async (request, reply) => {
        await flow(request.body.email, request);
        return reply.status(202).send(accepted);
      },
    );
  }

  quietEmailRoute(
    '/api/auth/password/forgot',
    'Mail a password reset link (the same 202 whether or not the email has an account)',
    FORGOT_ACCEPTED,
    (email, request) => app.accounts.flows.forgot(email, request),
  );

  app.post(
    '/api/auth/password/reset',
    {
      schema: {
        tags: ['auth'],
        summary: 'Set a new password with the mailed reset token; ends every session and trusted device',
        body: ResetBody,
        response: { 200: StatusOnly('reset'), ...tokenErrors },
      },
    },
    async (request) => {
      await app.accounts.flows.reset(request.body.token, request.body.newPassword, request);
      return { status: 'reset' as const };
    },
  );

  app.post(
    '/api/auth/password/change',
    {
      onRequest: [app.authenticate, app.requireRecentAuth],
      config: { allowRestricted: ['password_change'] },
      schema: {
        tags: ['auth'],
        summary: 'Change your password (recent sign-in required); other sessions are signed out',
        description: 'A forced change (token restricted to password_change) answers a fresh unrestricted token pair.',
        security: [{ bearerAuth: [] }],
        body: ChangeBody,
        response: { 200: ChangeResponse, 400: Problem, 401: Problem, 403: Problem, 415: Problem, 429: Problem },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const auth = actor.auth;
      if (!auth) throw httpErrors.unauthorized();
      const { endedSessions } = await app.accounts.flows.change(
        actor.userId,
        auth.sessionId,
        request.body.currentPassword,
        request.body.newPassword,
        request,
      );
      if (auth.restriction !== 'password_change') return { status: 'changed' as const, endedSessions };
      // The restricted session ends; the user continues with a fresh, unrestricted one.
      await app.tokens.sessions.revoke(actor.userId, auth.sessionId, 'password_change');
      const pair = await app.auth.completeLogin(request, actor.userId, { amr: ['pwd'] });
      return { status: 'changed' as const, endedSessions, ...pair };
    },
  );

  app.post(
    '/api/auth/email/verify',
    {
      schema: {
        tags: ['auth'],
        summary: 'Verify the account email with the mailed token',
        body: TokenBody,
        response: { 200: StatusOnly('verified'), ...tokenErrors },
      },
    },
    async (request) => {
      if (!(await app.accounts.flows.verify(request.body.token, request))) throw accountErrors.invalidToken();
      return { status: 'verified' as const };
    },
  );

  quietEmailRoute(
    '/api/auth/email/resend',
    'Mail a new verification link (the same 202 whether or not the email has an account)',
    RESEND_ACCEPTED,
    (email, request) => app.accounts.flows.resend(email, request),
  );

  app.post(
    '/api/auth/login/not-me',
    {
      schema: {
        tags: ['auth'],
        summary: '"It was not me": end the session a sign-in alert was about and start a password reset',
        body: TokenBody,
        response: { 200: NotMeResponse, ...tokenErrors },
      },
    },
    async (request) => {
      const result = await app.accounts.suspicious.disown(request.body.token, request);
      if (!result) throw accountErrors.invalidToken();
      return { status: 'secured' as const, ...result };
    },
  );
};
