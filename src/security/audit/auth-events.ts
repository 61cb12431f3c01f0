/**
 * Audit events of the basic auth flows (`auth.login.succeeded`, `auth.login.failed`,
 * `auth.register`, `auth.refresh`), kept here so the auth routes only wrap their calls.
 * Never the email as typed on a failed login (users paste passwords into the email field), never a
 * token: the user is named by id when the account exists.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { AppError } from '../../http/errors.js';
import type { Queryable } from '../../platform/db/index.js';
import { AUDIT_ACTIONS } from './actions.js';

function subjectOf(accessToken: string): string {
  const sub = decodeJwt(accessToken).sub;
  return typeof sub === 'string' ? sub : 'anonymous';
}

/** Runs a login and records its outcome. */
export async function auditedLogin<T extends { accessToken: string }>(app: FastifyInstance, request: FastifyRequest, email: string, login: () => Promise<T>): Promise<T> {
  const context = app.audit.contextOf(request);
  let pair: T;
  try {
    pair = await login();
  } catch (err) {
    if (err instanceof AppError && err.status === 401) {
      // Both failure paths (unknown email, wrong password) do this same lookup and insert, so the
      // audit write does not reintroduce a timing difference.
      const known = await app.users.repo.getByEmail(email.trim());
      await app.audit.record({
        action: AUDIT_ACTIONS.loginFailed,
        actor: 'anonymous',
        outcome: 'failure',
        target: known ? { type: 'user', id: known.id } : null,
        metadata: { reason: known ? (known.disabled ? 'account_disabled' : 'wrong_password') : 'unknown_account', errorCode: err.code },
        ...context,
      });
    }
    throw err;
  }
  const userId = subjectOf(pair.accessToken);
  await app.audit.record({ action: AUDIT_ACTIONS.loginSucceeded, actor: userId, outcome: 'success', target: { type: 'user', id: userId }, ...context });
  return pair;
}

/** Runs a refresh and records its outcome. */
export async function auditedRefresh<T extends { accessToken: string }>(app: FastifyInstance, request: FastifyRequest, refresh: () => Promise<T>): Promise<T> {
  const context = app.audit.contextOf(request);
  let pair: T;
  try {
    pair = await refresh();
  } catch (err) {
    if (err instanceof AppError && err.status === 401) {
      await app.audit.record({ action: AUDIT_ACTIONS.refresh, actor: 'anonymous', outcome: 'failure', metadata: { errorCode: err.code }, ...context });
    }
    throw err;
  }
  const userId = subjectOf(pair.accessToken);
  await app.audit.record({ action: AUDIT_ACTIONS.refresh, actor: userId, outcome: 'success', target: { type: 'user', id: userId }, ...context });
  return pair;
}

/** The registration event, written in the transaction that creates the account. */
export async function recordRegister(app: FastifyInstance, request: FastifyRequest, userId: string, tx: Queryable): Promise<void> {
  await app.audit.record(
    { action: AUDIT_ACTIONS.register, actor: userId, outcome: 'success', target: { type: 'user', id: userId }, ...app.audit.contextOf(request) },
    tx,
  );
}
