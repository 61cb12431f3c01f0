/** Mail (src/platform/mail/). */

import { int, url, type Parser, type SchemaSection } from '../parsers.js';

/**
 * MAIL_FROM: "address" or "Name <address>". CR, LF and other control characters are refused: the
 * value goes into the From header of every mail (header injection).
 */
export const mailFrom: Parser<string> = (raw) => {
  const v = raw.trim();
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new Error('must not contain control characters (CR, LF, ...)');
  const address = /<([^<>]+)>$/.exec(v)?.[1] ?? v;
  if (!/^[^\s@<>,;"]+@[^\s@<>,;"]+$/.test(address)) throw new Error('must be an email address or "Name <address>"');
  return v;
};

export const mailSchema = {
  SMTP_URL: {
    group: 'Mail',
    doc: 'SMTP server for outgoing mail: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://...:465. Unset: each mail is written as an .eml file to DATA_DIR/outbox/.',
    example: 'smtps://mailer:secret@smtp.example.com:465',
    parse: url(['smtp', 'smtps']),
    secret: true,
  },
  MAIL_FROM: {
    group: 'Mail',
    doc: 'Sender of every mail, an address or "Name <address>". Unset: no-reply@ the PUBLIC_URL host.',
    example: 'Portfolio <no-reply@example.com>',
    parse: mailFrom,
  },
  MAIL_MAX_ATTEMPTS: {
    group: 'Mail',
    doc: 'Delivery attempts per mail before it is given up (retries back off exponentially from MAIL_RETRY_DELAY to 1 h).',
    default: '12',
    parse: int(1, 50),
  },
  MAIL_RETRY_DELAY: {
    group: 'Mail',
    doc: 'Seconds before the first retry of a mail that failed to send; each later retry waits twice as long, up to 1 h.',
    default: '30',
    parse: int(1, 3600),
  },
  MAIL_POLL_INTERVAL: {
    group: 'Mail',
    doc: 'Seconds between outbox delivery runs of each node (new mails are also sent right away); 0 stops the background worker.',
    default: '5',
    parse: int(0, 3600),
  },
} satisfies SchemaSection;
