/**
 * The contact form of a public portfolio: a visitor's message is mailed to the owner.
 *
 * Abuse it has to withstand, and how:
 * - spam bots: a honeypot field (`website`) that people never see; a filled one is answered
 *   exactly like a real message (202, same body) but nothing is sent, so the bot learns nothing;
 * - flooding: a per-client rate-limit policy (`contact`, src/security/shield/policies.ts) and a
 *   per-portfolio daily cap (CONTACT_MAX_PER_DAY) shared by every node through the KV;
 * - header injection: name and email may not hold control characters (schema), the email must be
 *   one plain mailbox (it becomes Reply-To), and the mailer cleans every header again;
 * - size: every field has a maximum length (schema; larger bodies are 400 or 413);
 * - drafts: only published, public portfolios have a form; any other slug is the same 404.
 *
 * Consent: when the site has a privacy notice (a port filled by src/security/privacy/notice), a
 * message must name its current version (`privacyNoticeVersion`, else 400
 * PRIVACY_NOTICE_NOT_ACCEPTED); the message is kept in `contact_messages` with the version
 * accepted and when, in the transaction that queues its mail (docs/PRIVACY.md).
 */
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import type { Kv } from '../../platform/kv/index.js';
import type { Mailer } from '../../platform/mail/index.js';
import { isMailboxAddress } from '../../platform/mail/headers.js';
import { httpErrors } from '../../http/errors.js';
import { newId } from '../../platform/ids.js';
import { accountErrors } from './errors.js';
import { ContactRepository, type ContactTarget } from './repository.js';

export type { ContactTarget } from './repository.js';

export interface ContactInput {
  name: string;
  email: string;
  message: string;
  website?: string | undefined;
  privacyNoticeVersion?: string | undefined;
}

/** The privacy notice in force: its version, or null when the site has none. */
export type NoticePort = () => Promise<{ version: string } | null>;

export type ContactOutcome =
  { kind: 'sent'; target: ContactTarget; mailId: string } | { kind: 'honeypot'; target: ContactTarget };

const SLUG_PATTERN = /^[a-z0-9-]{3,64}$/;

/** Removes control characters except tab and line breaks (the message is body text only). */
function cleanMessage(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '')
    .trim();
}

export class ContactService {
  private readonly repo: ContactRepository;
  private notice: NoticePort = async () => null;

  constructor(
    private readonly o: {
      db: Db;
      kv: Kv;
      clock: Clock;
      mail: Mailer;
      maxPerDay: number;
      /** The site's contact recipient (src/settings/), read per message; null: the portfolio's owner. */
      recipient?: () => string | null;
    },
  ) {
    this.repo = new ContactRepository(o.db);
  }

  /** Filled by the privacy notice module: messages must then accept its current version. */
  useNotice(port: NoticePort): void {
    this.notice = port;
  }

  /**
   * Checks and sends one message. `record` writes the audit event in the same transaction as the
   * outbox row, so a message is logged exactly when it is queued.
   */
  async submit(
    slug: string,
    input: ContactInput,
    record: (outcome: ContactOutcome, tx?: Queryable) => Promise<void>,
  ): Promise<ContactOutcome> {
    const target = SLUG_PATTERN.test(slug) ? await this.repo.getTargetBySlug(slug) : undefined;
    if (!target) throw httpErrors.notFound('Portfolio');

    const name = input.name.trim();
    const message = cleanMessage(input.message);
    const email = input.email.trim();
    if (name === '') throw accountErrors.invalidField('/name', 'must not be blank');
    if (message === '') throw accountErrors.invalidField('/message', 'must not be blank');
    if (!isMailboxAddress(email))
      throw accountErrors.invalidField('/email', 'must be one email address like name@example.com');

    // Consent before anything else is decided (a bot's honeypot message is refused the same way).
    const notice = await this.notice();
    if (notice !== null && input.privacyNoticeVersion !== notice.version) {
      throw accountErrors.privacyNoticeNotAccepted(notice.version);
    }

    if ((input.website ?? '').trim() !== '') {
      const outcome: ContactOutcome = { kind: 'honeypot', target };
      await record(outcome);
      return outcome;
    }

    await this.countToday(target.portfolioId);
    return this.o.db.transaction(async (tx) => {
      const recipient = this.o.recipient?.() ?? null;
      const mail = this.o.mail.templates.contactMessage({
        to: recipient === null ? { address: target.ownerEmail, name: target.ownerName } : { address: recipient },
        portfolioTitle: target.title,
        senderName: name,
        senderEmail: email,
        message,
      });
      const mailId = await this.o.mail.enqueue(mail, tx);
      const now = this.o.clock.now();
      await this.repo.insertMessage(
        {
          id: newId(),
          portfolioId: target.portfolioId,
          recipientId: target.ownerId,
          senderName: name,
          senderEmail: email,
          message,
          mailId,
          noticeVersion: notice?.version ?? null,
          noticeAcceptedAt: notice === null ? null : now,
          createdAt: now,
        },
        tx,
      );
      const outcome: ContactOutcome = { kind: 'sent', target, mailId };
      await record(outcome, tx);
      return outcome;
    });
  }

  /** The per-portfolio daily cap (UTC day), one atomic increment shared by every node. */
  private async countToday(portfolioId: string): Promise<void> {
    const now = this.o.clock.now();
    const day = now.toISOString().slice(0, 10);
    const nextMidnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    const count = await this.o.kv.incr(`contact:day:${portfolioId}:${day}`, 1, 26 * 3600 * 1000);
    if (count > this.o.maxPerDay) {
      throw accountErrors.contactLimit(Math.max(1, Math.ceil((nextMidnight - now.getTime()) / 1000)));
    }
  }
}
