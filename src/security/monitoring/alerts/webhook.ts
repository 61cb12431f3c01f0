/**
 * The alert webhook sender: delivers queued rows of `alert_webhook_deliveries` to
 * ALERT_WEBHOOK_URL, signed (./signature.ts), with exponential backoff (30 s doubling to 1 h) up
 * to ALERT_WEBHOOK_MAX_ATTEMPTS. The queue is a table, so a restart loses nothing: a row claimed by
 * a node that died is retried once its claim runs out. At least once: a receiver that answered
 * 2xx but whose answer was lost gets the same body (the same alert id) again, and deduplicates.
 *
 * No SSRF: the only destination is the operator's ALERT_WEBHOOK_URL (http or https, checked at
 * boot); nothing in an alert or a request chooses where it goes, and redirects are not followed.
 */
import type { Clock } from '../../../platform/clock.js';
import type { AlertsRepository } from './repository.js';
import { signWebhook } from './signature.js';

export interface WebhookSenderOptions {
  repo: AlertsRepository;
  clock: Clock;
  url: string;
  secret: string;
  maxAttempts: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  timeoutMs?: number;
  log?: { warn(obj: object, msg: string): void };
}

export interface SendResult {
  sent: number;
  retried: number;
  dead: number;
}

/** Only the status line and a short reason: never the receiver's body in our database. */
function describe(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown; cause?: { code?: unknown } } | null;
  return [e?.name, e?.cause?.code, e?.message]
    .filter((p) => p !== undefined && p !== null)
    .map(String)
    .join(' ')
    .replace(/[\r\n]+/g, ' ')
    .slice(0, 300);
}

export class WebhookSender {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: WebhookSenderOptions) {}

  /** Delivers every due row once (one pass at a time per process). */
  runOnce(): Promise<SendResult> {
    const next = this.chain.then(() => this.pass());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async pass(): Promise<SendResult> {
    const result: SendResult = { sent: 0, retried: 0, dead: 0 };
    const timeout = this.o.timeoutMs ?? 10_000;
    for (;;) {
      const now = this.o.clock.now();
      const rows = await this.o.repo.claimDue(now, timeout * 2 + 5_000, 20);
      if (rows.length === 0) return result;
      for (const row of rows) {
        let error: string | undefined;
        try {
          const res = await fetch(this.o.url, {
            method: 'POST',
            redirect: 'manual',
            signal: AbortSignal.timeout(timeout),
            headers: {
              'content-type': 'application/json',
              'user-agent': 'portfolio-alerts/1',
              'x-signature': signWebhook(this.o.secret, row.body, this.o.clock.now().getTime() / 1000),
            },
            body: row.body,
          });
          await res.body?.cancel().catch(() => undefined);
          if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}`;
        } catch (err) {
          error = describe(err);
        }
        if (error === undefined) {
          await this.o.repo.markSent(row.id, this.o.clock.now());
          result.sent++;
          continue;
        }
        const attempts = row.attempts + 1;
        if (attempts >= this.o.maxAttempts) {
          await this.o.repo.markFailed(row.id, error, null);
          this.o.log?.warn(
            { delivery: row.id, alert: row.alertId, attempts, error },
            'alerts: webhook delivery given up',
          );
          result.dead++;
        } else {
          const base = this.o.baseBackoffMs ?? 30_000;
          const delay = Math.min(base * 2 ** (attempts - 1), this.o.maxBackoffMs ?? 3_600_000);
          await this.o.repo.markFailed(row.id, error, new Date(this.o.clock.now().getTime() + delay));
          result.retried++;
        }
      }
    }
  }
}
