/**
 * The mailer: `enqueue(mail, tx?)` writes a row to the outbox inside the caller's transaction
 * (the mail exists exactly when the change that caused it commits); a worker on every node
 * delivers due rows with exponential backoff, and `runOnce()` drives it by hand (tests, CLI).
 *
 * Delivery is at least once: a node that crashes after the SMTP server accepted a mail but before
 * it marked the row sent lets the lease expire and the mail goes out again. The Message-ID is the
 * outbox id, so the copies are recognisably the same mail. Across healthy nodes a row is claimed
 * by one of them only (see outbox.ts), so a mail is never sent twice by two nodes racing.
 */
import { randomUUID } from 'node:crypto';
import { hrefOf, type PublicUrlSource } from '../../config/public-url.js';
import type { Clock } from '../clock.js';
import type { Db, Queryable } from '../db/index.js';
import { newId } from '../ids.js';
import { headerText, mailboxAddress } from './headers.js';
import { OutboxRepository, type OutboxRow } from './repository.js';
import { createTemplates, type MailTemplates } from './templates.js';
import type { MailTransport, OutgoingMail } from './types.js';

export interface MailerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface MailerOptions {
  db: Db;
  clock: Clock;
  transport: MailTransport;
  /** MAIL_FROM, already validated. */
  from: string;
  /** The public base URL (`app.publicUrl`): links, and the host part of Message-IDs. */
  publicUrl: PublicUrlSource;
  appName?: string;
  /** Attempts before a mail is given up (MAIL_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Background poll in ms; 0 = no background worker on this node. */
  pollIntervalMs: number;
  /** First retry delay; doubles per attempt up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a claim holds a row (longer than the slowest send). */
  leaseMs?: number;
  /** Rows per claim. */
  batchSize?: number;
  log?: MailerLog;
  /** Called once per mail given up (the plugin records an audit event). */
  onDead?: (row: { id: string; template: string; attempts: number; error: string }) => Promise<void>;
}

export interface RunResult {
  sent: number;
  retried: number;
  dead: number;
}

const silentLog: MailerLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** SMTP replies that will not change on retry: bad mailbox or address, policy refusal. */
function isPermanent(error: unknown): boolean {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && [501, 550, 551, 553, 554].includes(code);
}

/** An error as one short line for last_error (no stack, never the message body). */
function describe(error: unknown): string {
  const e = error as { code?: unknown; responseCode?: unknown; message?: unknown } | null;
  const parts = [e?.code, e?.responseCode, e?.message].filter((p) => p !== undefined && p !== null).map(String);
  return headerText(parts.join(' ') || String(error), 500);
}

export class Mailer {
  readonly templates: MailTemplates;
  readonly outbox: OutboxRepository;

  private readonly o: Required<Omit<MailerOptions, 'onDead'>> & Pick<MailerOptions, 'onDead'>;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private running = false;
  private stopped = false;

  constructor(options: MailerOptions) {
    this.o = {
      appName: 'Portfolio',
      baseBackoffMs: 30_000,
      maxBackoffMs: 3_600_000,
      leaseMs: 5 * 60_000,
      batchSize: 20,
      log: silentLog,
      ...options,
    };
    this.outbox = new OutboxRepository(options.db);
    // Read when each mail is made: the site name can change while the server runs.
    const siteName = () => this.siteName();
    this.templates = createTemplates({
      publicUrl: options.publicUrl,
      get appName() {
        return siteName();
      },
    });
  }

  private siteName: () => string = () => this.o.appName;

  /** The site settings (src/settings/) fill this port: the name in subjects and signatures. */
  useSiteName(source: () => string): void {
    this.siteName = source;
  }

  /** The host part of Message-IDs: the public host as it is now. */
  private get messageHost(): string {
    return new URL(hrefOf(this.o.publicUrl)).hostname.replace(/^\[|\]$/g, '') || 'localhost';
  }

  get transportKind(): MailTransport['kind'] {
    return this.o.transport.kind;
  }

  /**
   * Queues a mail. Pass the transaction of the change that causes it, so both commit or neither.
   * Addresses are checked and header text cleaned here, before anything is stored: a CR/LF in
   * a recipient throws, one in a subject or name becomes a space.
   */
  async enqueue(mail: OutgoingMail, tx?: Queryable): Promise<string> {
    const toAddress = mailboxAddress(mail.to.address);
    const replyTo = mail.replyTo === undefined ? null : mailboxAddress(mail.replyTo);
    const toName = mail.to.name ? headerText(mail.to.name, 100) || null : null;
    const id = newId();
    await this.outbox.create(
      {
        id,
        template: headerText(mail.template, 60),
        toAddress,
        toName,
        replyTo,
        subject: headerText(mail.subject),
        textBody: mail.text,
        htmlBody: mail.html ?? null,
        createdAt: this.o.clock.now(),
      },
      tx ?? this.o.db,
    );
    // Without a transaction the row is visible now; with one, it is once the caller commits,
    // which the nudge's short delay usually covers (and the next poll always does).
    this.nudge(tx ? 250 : 0);
    return id;
  }

  /** Starts the background worker (no-op when the poll interval is 0). */
  start(): void {
    this.stopped = false;
    if (this.o.pollIntervalMs > 0) this.schedule(this.o.pollIntervalMs);
  }

  /** Stops the worker, waits for a delivery in progress, closes the transport. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain.catch(() => undefined);
    await this.o.transport.close();
  }

  /**
   * Delivers every due mail once (claims in batches until none is due). Runs on this node are
   * serialised; runs on other nodes claim other rows.
   */
  runOnce(): Promise<RunResult> {
    const run = this.chain.then(() => this.deliverDue());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Delay before attempt n+1 after n failed ones: base * 2^(n-1), capped. */
  backoffMs(attempts: number): number {
    return Math.min(this.o.baseBackoffMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30), this.o.maxBackoffMs);
  }

  private nudge(delayMs: number): void {
    if (this.stopped || this.o.pollIntervalMs === 0 || !this.timer) return;
    this.schedule(delayMs);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.tick();
    }, delayMs);
    // Housekeeping must never keep a finished process alive.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    try {
      await this.runOnce();
    } catch (error) {
      // The database may be away (restart, shutdown): the rows wait for the next poll.
      this.o.log.warn({ err: describe(error) }, 'mail outbox run failed');
    } finally {
      this.running = false;
      if (!this.stopped) this.schedule(this.o.pollIntervalMs);
    }
  }

  private async deliverDue(): Promise<RunResult> {
    const result: RunResult = { sent: 0, retried: 0, dead: 0 };
    const claimToken = randomUUID();
    for (let round = 0; round < 50 && !this.stopped; round++) {
      const now = this.o.clock.now();
      const rows = await this.outbox.claim(now, this.o.batchSize, claimToken, new Date(now.getTime() + this.o.leaseMs));
      if (rows.length === 0) break;
      for (const row of rows) {
        const outcome = await this.deliver(row, claimToken);
        result[outcome]++;
      }
      if (rows.length < this.o.batchSize) break;
    }
    return result;
  }

  private async deliver(row: OutboxRow, claimToken: string): Promise<keyof RunResult> {
    try {
      await this.o.transport.send({
        messageId: `${row.id}@${this.messageHost}`,
        from: this.o.from,
        to: { address: row.toAddress, name: row.toName ?? undefined },
        replyTo: row.replyTo,
        subject: row.subject,
        text: row.textBody,
        html: row.htmlBody,
      });
    } catch (error) {
      const reason = describe(error);
      const giveUp = isPermanent(error) || row.attempts >= this.o.maxAttempts;
      const retryAt = giveUp ? null : new Date(this.o.clock.now().getTime() + this.backoffMs(row.attempts));
      await this.outbox.markFailed(row.id, claimToken, reason, retryAt);
      if (giveUp) {
        this.o.log.error(
          { mailId: row.id, template: row.template, attempts: row.attempts, err: reason },
          'mail given up',
        );
        await this.o
          .onDead?.({ id: row.id, template: row.template, attempts: row.attempts, error: reason })
          .catch(() => undefined);
        return 'dead';
      }
      this.o.log.warn(
        { mailId: row.id, template: row.template, attempts: row.attempts, err: reason },
        'mail delivery failed, will retry',
      );
      return 'retried';
    }
    await this.outbox.markSent(row.id, claimToken, this.o.clock.now());
    this.o.log.info({ mailId: row.id, template: row.template }, 'mail sent');
    return 'sent';
  }
}
