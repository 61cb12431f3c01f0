/** A recipient: the address, and optionally a display name. */
export interface MailAddress {
  address: string;
  name?: string | undefined;
}

/** A rendered mail, ready for the outbox (`mail.templates.*` build these). */
export interface OutgoingMail {
  /** Which template made it (stored, logged, counted; never the body). */
  template: string;
  to: MailAddress;
  /** A single address for replies (the contact form's sender). */
  replyTo?: string | undefined;
  subject: string;
  text: string;
  html?: string | undefined;
}

/** What a transport sends: an outbox row, checked and with its headers fixed. */
export interface TransportMessage {
  /** RFC 5322 Message-ID without brackets: the outbox id @ the PUBLIC_URL host. */
  messageId: string;
  from: string;
  to: MailAddress;
  replyTo: string | null;
  subject: string;
  text: string;
  html: string | null;
}

/** SMTP or the .eml folder. `send` throws on failure (the worker retries). */
export interface MailTransport {
  readonly kind: 'smtp' | 'file';
  send(message: TransportMessage): Promise<void>;
  close(): Promise<void>;
}
