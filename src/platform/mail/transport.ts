/**
 * The two ways a mail leaves: SMTP through nodemailer (SMTP_URL), or, on the embedded defaults, an
 * `.eml` file per mail in DATA_DIR/outbox/ built by nodemailer's stream transport (the very bytes
 * SMTP would carry, so any mail client opens them).
 *
 * nodemailer (about 13 MB of memory) loads with the first mail of the file transport; with
 * SMTP_URL set it loads at start (in the background: nothing waits for it) so the first mail does
 * not pay for it. The transporter itself is made on first use in both cases.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lazyModule } from '../lazy.js';
import type { MailTransport, TransportMessage } from './types.js';

type Nodemailer = (typeof import('nodemailer'))['default'];
const loadNodemailer = lazyModule(async (): Promise<Nodemailer> => (await import('nodemailer')).default);

/** The transporter, made once on first use; `current()` is the one made, if any (to close it). */
function lazyTransporter<T extends { close(): void }>(make: (nodemailer: Nodemailer) => T) {
  let made: T | undefined;
  const get = lazyModule(async () => (made = make(await loadNodemailer())));
  return { get, current: () => made };
}

/** nodemailer options for one message. File and URL access stay off: bodies are ours, never paths. */
function mailOptions(m: TransportMessage) {
  return {
    from: m.from,
    to: { name: m.to.name ?? '', address: m.to.address },
    ...(m.replyTo ? { replyTo: m.replyTo } : {}),
    subject: m.subject,
    text: m.text,
    ...(m.html ? { html: m.html } : {}),
    messageId: `<${m.messageId}>`,
    // RFC 3834: an automatic mail; auto-responders should not answer it.
    headers: { 'Auto-Submitted': 'auto-generated' },
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

export interface SmtpTransportOptions {
  /** SMTP_URL (smtp:// or smtps://, credentials in the URL). */
  url: string;
  /** Socket timeouts in ms (nodemailer's defaults wait minutes on a dead server). */
  timeoutMs?: number;
}

export function createSmtpTransport(options: SmtpTransportOptions): MailTransport {
  const timeout = options.timeoutMs ?? 15_000;
  const transporter = lazyTransporter((nodemailer) =>
    nodemailer.createTransport({
      url: options.url,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout * 2,
      disableFileAccess: true,
      disableUrlAccess: true,
    } as Parameters<Nodemailer['createTransport']>[0]),
  );
  // SMTP is configured, so mail will be sent: load now, off the start's critical path. A failure
  // here is the first send's to report (it loads again).
  transporter.get().catch(() => undefined);
  return {
    kind: 'smtp',
    async send(message) {
      await (await transporter.get()).sendMail(mailOptions(message));
    },
    async close() {
      transporter.current()?.close();
    },
  };
}

/**
 * Writes each mail to `<dir>/<time>-<id>.eml` (0600: the mails hold one-time links). Written to a
 * temporary name and renamed, so a reader never sees half a file.
 */
export function createFileTransport(dir: string): MailTransport {
  const transporter = lazyTransporter((nodemailer) =>
    nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }),
  );
  return {
    kind: 'file',
    async send(message) {
      const info = (await (await transporter.get()).sendMail(mailOptions(message))) as unknown as { message: Buffer };
      // The folder is DATA_DIR/outbox (configuration) and the name is built from the outbox id only.
      // eslint-disable-next-line security/detect-non-literal-fs-filename
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const id = message.messageId.split('@')[0] ?? 'mail';
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${id.replace(/[^A-Za-z0-9-]/g, '')}.eml`;
      const target = path.join(dir, name);
      // eslint-disable-next-line security/detect-non-literal-fs-filename
      await writeFile(`${target}.tmp`, info.message, { mode: 0o600 });
      // eslint-disable-next-line security/detect-non-literal-fs-filename
      await rename(`${target}.tmp`, target);
    },
    async close() {
      transporter.current()?.close();
    },
  };
}
