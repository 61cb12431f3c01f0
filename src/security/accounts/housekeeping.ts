/**
 * Periodic cleanup of account-security tables: one-time tokens that expired or were used more
 * than a week ago (kept that long so support can see that a link was used), and mail outbox
 * rows sent or given up more than 30 days ago (their bodies are already erased). Every node runs
 * it; the deletes are idempotent. The timer is src/platform/housekeeping.ts, with which invitations
 * (src/security/invitations) and preview links (src/content/preview) schedule their own cleanup.
 */
import type { FastifyInstance } from 'fastify';
import { HOUSEKEEPING_INTERVAL_MS, scheduleHousekeeping as every } from '../../platform/housekeeping.js';

export { HOUSEKEEPING_INTERVAL_MS };
export const TOKEN_RETENTION_MS = 7 * 86_400_000;
export const OUTBOX_RETENTION_MS = 30 * 86_400_000;

export async function runHousekeeping(app: FastifyInstance): Promise<{ tokens: number; mails: number }> {
  const now = app.deps.clock.now().getTime();
  const tokens = await app.accounts.tokens.deleteStale(new Date(now - TOKEN_RETENTION_MS));
  const mails = await app.mail.outbox.deleteSettled(new Date(now - OUTBOX_RETENTION_MS));
  return { tokens, mails };
}

export function scheduleHousekeeping(app: FastifyInstance): void {
  every(app, 'accounts', () => runHousekeeping(app));
}
