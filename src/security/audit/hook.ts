/**
 * Automatic logging, so no handler has to remember: every state-changing request (any method but
 * GET, HEAD and OPTIONS) is written with who (actor or `anonymous`), what (method and route), the
 * target (from the route's `:id`-style parameter), the result (status -> outcome) and the request
 * id; so is every read of sensitive data: any GET under /api/admin/ (`admin.read`, e.g. an admin
 * reading another user's account), and routes that declare `config: { audit: { read: 'audit.read' } }`.
 *
 * It runs in onResponse because the result is known only then. That is also why it cannot share
 * the handler's transaction: the events that must commit with a state change are the domain
 * events that services write with `app.audit.record(event, tx)`; this hook is the complete,
 * uniform request trail next to them.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AUDIT_ACTIONS, requestAction } from './actions.js';
import type { Outcome } from './canonical.js';
import { clientIpOf } from './service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: not logged by the automatic hook (the route writes its own events); read: log GETs under this action. */
    audit?: false | { read?: string };
  }
  interface FastifyRequest {
    /** Extra metadata a handler attaches to the automatic event (e.g. an export's row count). */
    auditMetadata: Record<string, unknown> | null;
  }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const kErrorCode = Symbol('auditErrorCode');

export function outcomeOf(status: number): Outcome {
  if (status === 401 || status === 403 || status === 429) return 'denied';
  return status >= 400 ? 'failure' : 'success';
}

/** `/api/admin/users/:id` with {id} -> {type: 'users', id}: the static segment before the first parameter. */
export function targetOf(routeUrl: string | undefined, params: unknown): { type: string; id: string } | null {
  if (!routeUrl || typeof params !== 'object' || params === null) return null;
  const segments = routeUrl.split('/');
  const i = segments.findIndex((s) => s.startsWith(':'));
  if (i < 1) return null;
  const name = segments[i]?.slice(1) ?? '';
  const value = (params as Record<string, unknown>)[name];
  const type = (segments[i - 1] ?? '').toLowerCase();
  if (typeof value !== 'string' || value === '' || !/^[a-z][a-z0-9_.-]{0,49}$/.test(type)) return null;
  return { type, id: value };
}

export function installRequestHook(app: FastifyInstance): void {
  app.decorateRequest('auditMetadata', null);
  app.addHook('onError', async (request, _reply, error) => {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') (request as unknown as Record<symbol, string>)[kErrorCode] = code;
  });
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config as { audit?: false | { read?: string } } | undefined;
    if (config?.audit === false) return;
    const route = request.routeOptions.url;
    const code = (request as unknown as Record<symbol, string | undefined>)[kErrorCode];
    const status = reply.statusCode;
    // Refusals by the shield are counted, not written one by one (see AuditService.noteRejected).
    if (status === 429 || code === 'CLIENT_BLOCKED') {
      app.audit.noteRejected(status === 429 ? 'limited' : 'blocked', clientIpOf(request), route ?? null, status);
      return;
    }
    let action: string | undefined;
    if (!READ_METHODS.has(request.method)) action = requestAction(request.method);
    else if (request.method === 'GET' && config?.audit && config.audit.read) action = config.audit.read;
    else if (request.method === 'GET' && route?.startsWith('/api/admin/')) action = AUDIT_ACTIONS.adminRead;
    if (!action) return;
    app.audit.track(
      app.audit.record({
        action,
        actor: request.actor?.userId ?? 'anonymous',
        outcome: outcomeOf(status),
        target: targetOf(route, request.params),
        ...app.audit.contextOf(request),
        metadata: {
          method: request.method,
          route: route ?? null,
          // Unmatched requests have no route: keep the path (never the query string, which may hold tokens).
          ...(route ? {} : { path: request.url.split('?')[0]?.slice(0, 200) }),
          status,
          ...(code ? { errorCode: code } : {}),
          ...(request.auditMetadata ?? {}),
        },
      }),
    );
  });
}
