/** Token security events (verification failures, binding mismatches, revocations) in the audit log. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { userEvent } from '../audit/event.js';

/** Records a token event; a failing audit write is logged, never fails the request. */
export async function recordEvent(
  app: FastifyInstance,
  request: FastifyRequest,
  action: string,
  userId: string | null,
  outcome: 'success' | 'failure',
  metadata: Record<string, unknown>,
): Promise<void> {
  try {
    await app.audit.record(userEvent(action, userId, outcome, app.audit.contextOf(request), metadata));
  } catch (err) {
    request.log.warn({ err }, 'audit record failed');
  }
}

/** Records an event off the request path; `app.audit.flush()` still waits for it. */
export function trackEvent(...args: Parameters<typeof recordEvent>): void {
  const [app] = args;
  app.audit.track(recordEvent(...args));
}
