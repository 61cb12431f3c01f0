/**
 * Operator alerts (`app.alerts`): raised by the detection consumer and the scheduled checks,
 * stored in `alerts`, delivered once per dedup window by mail (the platform outbox, to
 * ALERT_EMAILS) and by a signed webhook (ALERT_WEBHOOK_URL, the durable queue of ./webhook.ts).
 *
 * `raise(signal, tx)` runs inside the transaction that advances the consumer's cursor: the alert,
 * its mails and its webhook row commit together with the cursor, or not at all.
 */
import type { Config } from '../../../config/index.js';
import type { PublicUrlSource } from '../../../config/public-url.js';
import type { Clock } from '../../../platform/clock.js';
import type { Queryable } from '../../../platform/db/index.js';
import { newId } from '../../../platform/ids.js';
import { mailLink, type Mailer } from '../../../platform/mail/index.js';
import type { Severity } from '../detection/rule-spec.js';
import type { Rule } from '../detection/rules.js';
import { AlertsRepository, type AlertRow, type AlertState } from './repository.js';

/** What raises an alert: a rule, its dedup key, a measure and a one-line summary. */
export interface AlertInput {
  rule: Pick<Rule, 'name' | 'severity' | 'dedupWindow'>;
  key: string;
  count: number;
  summary: string;
  /** ms */
  at: number;
  seq: number | null;
}

export interface RaiseResult {
  alert: AlertRow;
  /** false: a repeat inside the dedup window (counted, not delivered again). */
  created: boolean;
}

/** The console's view of an alert: PUBLIC_URL + /admin/alerts/<id>. */
export const ALERT_LINK_PATH = '/admin/alerts/';

export interface AlertPayload {
  id: string;
  rule: string;
  severity: Severity;
  summary: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  link: string;
}

export function alertPayload(alert: AlertRow, link: string): AlertPayload {
  return {
    id: alert.id,
    rule: alert.rule,
    severity: alert.severity,
    summary: alert.summary,
    count: alert.count,
    firstSeen: alert.firstSeen.toISOString(),
    lastSeen: alert.lastSeen.toISOString(),
    link,
  };
}

/** The webhook body: the generic JSON, or a Slack-compatible message (ALERT_WEBHOOK_FORMAT=slack). */
export function webhookBody(payload: AlertPayload, format: 'json' | 'slack'): string {
  if (format === 'json') return JSON.stringify(payload);
  const icon =
    payload.severity === 'critical'
      ? ':rotating_light:'
      : payload.severity === 'warning'
        ? ':warning:'
        : ':information_source:';
  // Slack mrkdwn: escape the three control characters of its format.
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const text = `${icon} [${payload.severity}] ${esc(payload.rule)}: ${esc(payload.summary)} (count ${payload.count}, first seen ${payload.firstSeen}) <${payload.link}|Open alert ${payload.id}>`;
  return JSON.stringify({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
}

export interface AlertsServiceOptions {
  repo: AlertsRepository;
  clock: Clock;
  config: Pick<Config, 'ALERT_EMAILS' | 'ALERT_WEBHOOK_URL' | 'ALERT_WEBHOOK_FORMAT'>;
  mail: Pick<Mailer, 'enqueue' | 'templates'>;
  publicUrl: PublicUrlSource;
  /** A webhook row was queued (the sender is nudged once the transaction commits). */
  onQueued?: () => void;
}

export class AlertsService {
  readonly repo: AlertsRepository;

  constructor(private readonly o: AlertsServiceOptions) {
    this.repo = o.repo;
  }

  link(id: string): string {
    return mailLink(this.o.publicUrl, `${ALERT_LINK_PATH}${id}`);
  }

  /**
   * Raises (or counts a repeat of) an alert in `tx`. A new alert is mailed to ALERT_EMAILS and
   * queued for the webhook in the same transaction; a repeat inside the rule's dedup window only
   * bumps the count and last seen.
   */
  async raise(input: AlertInput, tx: Queryable): Promise<RaiseResult> {
    const at = new Date(input.at);
    const open = await this.repo.openWindow(input.rule.name, input.key, at, tx);
    if (open) {
      await this.repo.bump(open.id, input.count, at, input.seq, tx);
      return { alert: open, created: false };
    }
    const alert: AlertRow = {
      id: newId(),
      rule: input.rule.name,
      severity: input.rule.severity,
      dedupKey: input.key.slice(0, 500),
      summary: input.summary.slice(0, 1000),
      count: Math.max(1, input.count),
      firstSeen: at,
      lastSeen: at,
      windowEnds: new Date(input.at + input.rule.dedupWindow * 1000),
      firstSeq: input.seq,
      lastSeq: input.seq,
      state: 'open',
      ackedAt: null,
      ackedBy: null,
      createdAt: this.o.clock.now(),
    };
    await this.repo.insert(alert, tx);
    const link = this.link(alert.id);
    for (const address of this.o.config.ALERT_EMAILS ?? []) {
      await this.o.mail.enqueue(
        this.o.mail.templates.operatorAlert({
          to: { address },
          id: alert.id,
          rule: alert.rule,
          severity: alert.severity,
          summary: alert.summary,
          firstSeen: alert.firstSeen,
          link,
        }),
        tx,
      );
    }
    if (this.o.config.ALERT_WEBHOOK_URL) {
      await this.repo.enqueueDelivery(
        {
          id: newId(),
          alertId: alert.id,
          body: webhookBody(alertPayload(alert, link), this.o.config.ALERT_WEBHOOK_FORMAT),
          at: this.o.clock.now(),
        },
        tx,
      );
      this.o.onQueued?.();
    }
    return { alert, created: true };
  }

  list(filter: {
    state?: AlertState | undefined;
    severity?: Severity | undefined;
    before?: string | undefined;
    limit: number;
  }) {
    return this.repo.list(filter);
  }

  ack(id: string, by: string): Promise<AlertRow | undefined> {
    return this.repo.ack(id, by, this.o.clock.now());
  }
}
