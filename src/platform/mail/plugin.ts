import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../../config/index.js';
import { hrefOf, type PublicUrlSource } from '../../config/public-url.js';
import { Mailer } from './mailer.js';
import { createFileTransport, createSmtpTransport } from './transport.js';
import type { MailTransport } from './types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Outgoing mail: `app.mail.enqueue(app.mail.templates.passwordReset({...}), tx)`. */
    mail: Mailer;
  }
}

/** MAIL_FROM, or no-reply@ the public host (localhost when that host is an IP address). */
export function defaultFrom(config: Pick<Config, 'MAIL_FROM'>, publicUrl: PublicUrlSource): string {
  if (config.MAIL_FROM) return config.MAIL_FROM;
  const host = new URL(hrefOf(publicUrl)).hostname;
  const isIp = /^[\d.]+$/.test(host) || host.startsWith('[');
  return `no-reply@${isIp ? 'localhost' : host}`;
}

/** SMTP when SMTP_URL is set; otherwise .eml files in DATA_DIR/outbox/. */
export function transportFor(config: Pick<Config, 'SMTP_URL' | 'DATA_DIR'>): MailTransport {
  return config.SMTP_URL
    ? createSmtpTransport({ url: config.SMTP_URL })
    : createFileTransport(path.resolve(config.DATA_DIR, 'outbox'));
}

/**
 * `app.mail`, a platform plugin that features declare; a mail that is given up is an audit event. The worker
 * starts when the app is ready and stops (finishing the mail in hand) when it closes.
 */
export const mailPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, db, clock } = app.deps;
    const mailer = new Mailer({
      db,
      clock,
      transport: transportFor(config),
      // The host only: HOST decides it before listening, only the port can change later.
      from: defaultFrom(config, app.publicUrl),
      publicUrl: app.publicUrl,
      maxAttempts: config.MAIL_MAX_ATTEMPTS,
      baseBackoffMs: config.MAIL_RETRY_DELAY * 1000,
      pollIntervalMs: config.MAIL_POLL_INTERVAL * 1000,
      log: app.log,
      onDead: async (row) => {
        await app.audit.record({
          action: 'mail.delivery.failed',
          actor: 'system',
          outcome: 'failure',
          target: { type: 'mail', id: row.id },
          metadata: { template: row.template, attempts: row.attempts, error: row.error },
        });
      },
    });
    if (config.NODE_ENV === 'production' && !config.SMTP_URL) {
      app.log.warn(
        'SMTP_URL is not set: mails (password resets, unlock links, alerts) are only written to DATA_DIR/outbox/',
      );
    }
    app.decorate('mail', mailer);
    app.addHook('onReady', async () => mailer.start());
    app.addHook('onClose', async () => mailer.stop());
  },
  { name: 'mail', dependencies: ['deps', 'audit'] },
);
