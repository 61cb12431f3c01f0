/**
 * Audit events of the basic auth flows (`auth.login.succeeded`, `auth.login.failed`,
 * `auth.register`, `auth.refresh`), kept here so the auth routes only wrap their calls.
 * Never the email as typed on a failed login (users paste passwords into the email field), never a
 * token: the user is named by id when the account exists.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LoginFailedError, type AuthResult } from '../../auth/service.js';
import type { TokenPair } from '../../auth/tokens.js';
import { AppError } from '../../http/errors.js';
import type { Queryable } from '../../platform/db/index.js';
import { AUDIT_ACTIONS } from './actions.js';

/**
 * Runs a login and records its outcome. The service says who it was and why it failed, so no
 * second lookup happens here; both failure paths do the same single insert, so the audit write
 * does not reintroduce a timing difference between unknown and known emails.
 */
export async function auditedLogin(app: FastifyInstance, request: FastifyRequest, login: () => Promise<AuthResult>): Promise<TokenPair> {
  const context = app.audit.contextOf(request);
  let result: AuthResult;
  try {
    result = await login();
  } catch (err) {
    if (err instanceof LoginFailedError) {
      await app.audit.record({
        action: AUDIT_ACTIONS.loginFailed,
        actor: 'anonymous',
        outcome: 'failure',
        target: err.userId ? { type: 'user', id: err.userId } : null,
        metadata: { reason: err.reason, errorCode: err.code },
        ...context,
      });
    }
    throw err;
  }
  const { userId } = result;
  await app.audit.record({ action: AUDIT_ACTIONS.loginSucceeded, actor: userId, outcome: 'success', target: { type: 'user', id: userId }, ...context });
  return result.pair;
}

/** Runs a refresh and records its outcome. */
export async function auditedRefresh(app: FastifyInstance, request: FastifyRequest, refresh: () => Promise<AuthResult>): Promise<TokenPair> {
  const context = app.audit.contextOf(request);
  let result: AuthResult;
  try {
    result = await refresh();
  } catch (err) {
    if (err instanceof AppError && err.status === 401) {
      await app.audit.record({ action: AUDIT_ACTIONS.refresh, actor: 'anonymous', outcome: 'failure', metadata: { errorCode: err.code }, ...context });
    }
    throw err;
  }
  const { userId } = result;
  await app.audit.record({ action: AUDIT_ACTIONS.refresh, actor: userId, outcome: 'success', target: { type: 'user', id: userId }, ...context });
  return result.pair;
}

/** The registration event, written in the transaction that creates the account. */
export async function recordRegister(app: FastifyInstance, request: FastifyRequest, userId: string, tx: Queryable): Promise<void> {
  await app.audit.record(
    { action: AUDIT_ACTIONS.register, actor: userId, outcome: 'success', target: { type: 'user', id: userId }, ...app.audit.contextOf(request) },
    tx,
  );
}
