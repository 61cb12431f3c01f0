/**
 * Detection rules and operator alerts (issue 20, docs/MONITORING.md "Detection rules", "Alerts"):
 * `app.alerts` (the alerts: raise, list, ack) and `app.detection` (the consumer of the sealed
 * audit stream, the scheduled checks, the webhook sender). Every node runs the timer; only the
 * lease holder reads events and runs checks; any node may send due webhooks (rows are claimed).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { scheduleHousekeeping } from '../../../platform/housekeeping.js';
import { DetectionConsumer } from '../detection/consumer.js';
import { resolveRules, type Rule } from '../detection/rules.js';
import { AlertsRepository } from './repository.js';
import { alertRoutes } from './routes.js';
import { AlertsService } from './service.js';
import { WebhookSender } from './webhook.js';

export interface Detection {
  rules: readonly Rule[];
  consumer: DetectionConsumer;
  /** Undefined without ALERT_WEBHOOK_URL. */
  webhook: WebhookSender | undefined;
  /** One full round: read new events, run due checks, send due webhooks. */
  tick(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    alerts: AlertsService;
    detection: Detection;
  }
}

export const alertsPlugin = fp(
  async (app: FastifyInstance) => {
    const { db, kv, clock, config } = app.deps;
    const repo = new AlertsRepository(db);
    const alerts = new AlertsService({ repo, clock, config, mail: app.mail, publicUrl: app.publicUrl });
    const rules = resolveRules(config.MONITORING_RULES_FILE ?? []);
    const log = { warn: (obj: object, msg: string) => app.log.warn(obj, msg) };
    const consumer = new DetectionConsumer({ db, kv, clock, rules, alerts, checks: { config, audit: app.audit }, log });
    const webhook =
      config.ALERT_WEBHOOK_URL && config.ALERT_WEBHOOK_SECRET
        ? new WebhookSender({
            repo,
            clock,
            url: config.ALERT_WEBHOOK_URL,
            secret: config.ALERT_WEBHOOK_SECRET,
            maxAttempts: config.ALERT_WEBHOOK_MAX_ATTEMPTS,
            log,
          })
        : undefined;
    const detection: Detection = {
      rules,
      consumer,
      webhook,
      async tick() {
        await consumer.runOnce();
        await consumer.runChecks();
        await webhook?.runOnce();
      },
    };
    app.decorate('alerts', alerts);
    app.decorate('detection', detection);
    if (config.MONITORING_POLL_INTERVAL > 0) {
      scheduleHousekeeping(
        app,
        'monitoring: detection',
        () => detection.tick(),
        config.MONITORING_POLL_INTERVAL * 1000,
      );
    }
    app.addHook('onClose', async () => consumer.stop());
    await app.register(alertRoutes);
  },
  { name: 'alerts', dependencies: ['deps', 'audit', 'mail', 'authenticate'] },
);
