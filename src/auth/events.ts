/**
 * Audit events of the basic auth flows (`auth.login.failed`, `auth.register`, `auth.refresh`,
 * `token.refresh.reused`), kept here so the auth routes only wrap their calls. A successful
 * sign-in is recorded by `app.auth.completeLogin`, the one place every sign-in ends.
 * Never the email as typed on a failed login (users paste passwords into the email field), never a
 * token: the user is named by id when the account exists.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LoginFailedError } from './service.js';
import type { Queryable } from '../platform/db/index.js';
import { TokenError, type RefreshOutcome } from '../security/tokens/service.js';
import type { UserRow } from '../users/repository.js';
import { AUDIT_ACTIONS } from '../security/audit/actions.js';

/**
 * Checks a password and records a failure. The service says who it was and why it failed, so no
 * second lookup happens here; both failure paths do the same single insert, so the audit write
 * does not reintroduce a timing difference between unknown and known emails.
 */
export async function auditedPasswordCheck(
  app: FastifyInstance,
  request: FastifyRequest,
  check: () => Promise<UserRow>,
): Promise<UserRow> {
  try {
    return await check();
  } catch (err) {
    if (err instanceof LoginFailedError) {
      await app.audit.record({
        action: AUDIT_ACTIONS.loginFailed,
        actor: 'anonymous',
        outcome: 'failure',
        target: err.userId ? { type: 'user', id: err.userId } : null,
        metadata: { reason: err.reason, errorCode: err.code },
        ...app.audit.contextOf(request),
      });
    }
    throw err;
  }
}

/** Runs a refresh and records its outcome; a detected replay is its own security event. */
export async function auditedRefresh(
  app: FastifyInstance,
  request: FastifyRequest,
  refresh: () => Promise<RefreshOutcome>,
): Promise<RefreshOutcome> {
  const context = app.audit.contextOf(request);
  let result: RefreshOutcome;
  try {
    result = await refresh();
  } catch (err) {
    if (err instanceof TokenError) {
      const reused = err.reason === 'refresh_reused';
      await app.audit.record({
        action: reused ? AUDIT_ACTIONS.refreshReused : AUDIT_ACTIONS.refresh,
        actor: err.userId ?? 'anonymous',
        outcome: 'failure',
        target: err.userId ? { type: 'user', id: err.userId } : null,
        metadata: {
          reason: err.reason,
          ...(err.sessionId ? { session: err.sessionId } : {}),
          ...(reused ? { revoked: 'session and refresh family' } : {}),
        },
        ...context,
      });
    }
    throw err;
  }
  const { userId, sessionId } = result.pair;
  await app.audit.record({
    action: AUDIT_ACTIONS.refresh,
    actor: userId,
    outcome: 'success',
    target: { type: 'user', id: userId },
    metadata: { session: sessionId, kind: result.kind },
    ...context,
  });
  if (result.bindingMismatch) {
    await app.audit.record({
      action: AUDIT_ACTIONS.tokenBindingMismatch,
      actor: userId,
      outcome: 'failure',
      target: { type: 'user', id: userId },
      metadata: { session: sessionId, token: 'refresh' },
      ...context,
    });
  }
  return result;
}

/** The registration event, written in the transaction that creates the account. */
export async function recordRegister(
  app: FastifyInstance,
  request: FastifyRequest,
  userId: string,
  tx: Queryable,
): Promise<void> {
  await app.audit.record(
    {
      action: AUDIT_ACTIONS.register,
      actor: userId,
      outcome: 'success',
      target: { type: 'user', id: userId },
      ...app.audit.contextOf(request),
    },
    tx,
  );
}
