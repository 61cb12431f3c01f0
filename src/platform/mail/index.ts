export { Mailer, type MailerOptions, type RunResult } from './mailer.js';
export { mailPlugin, defaultFrom, transportFor } from './plugin.js';
export { OutboxRepository, type OutboxRow, type OutboxStatus } from './repository.js';
export { createTemplates, mailLink, MAIL_LINK_PATHS, type MailTemplates } from './templates.js';
export { headerText, mailboxAddress, isMailboxAddress, escapeHtml, MailAddressError } from './headers.js';
export { createFileTransport, createSmtpTransport } from './transport.js';
export type { MailAddress, MailTransport, OutgoingMail, TransportMessage } from './types.js';
