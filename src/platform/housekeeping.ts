/**
 * Periodic cleanup jobs (housekeeping): each feature deletes its own dead rows on a timer that is
 * unref'd (it never keeps a finished process alive), starts when the app is ready and stops when
 * it closes. Every node runs them; the deletes are idempotent. The retention of each table (how
 * long a dead row is kept, e.g. for support and the audit trail) is a constant of its feature.
 */
import type { FastifyInstance } from 'fastify';

/** How often each housekeeping job runs. */
export const HOUSEKEEPING_INTERVAL_MS = 3_600_000;

/** Runs `job` every `intervalMs` while the app is up; a failure is logged as `<label>: housekeeping failed`. */
export function scheduleHousekeeping(
  app: FastifyInstance,
  label: string,
  job: () => Promise<unknown>,
  intervalMs = HOUSEKEEPING_INTERVAL_MS,
): void {
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      job().catch((err: unknown) => app.log.warn({ err }, `${label}: housekeeping failed`));
    }, intervalMs);
    timer.unref();
  });
  app.addHook('onClose', async () => clearInterval(timer));
}
