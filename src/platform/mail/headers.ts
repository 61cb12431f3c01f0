/**
 * Header safety. Every value that reaches a mail header (subject, display names, addresses) passes
 * through here before nodemailer sees it, so a CR/LF smuggled in a portfolio title, a contact
 * form name or an email field can never start a new header (`Bcc: ...`) or a new message
 * (SMTP/header injection, CWE-93). Text is cleaned (control characters become spaces, which keeps
 * the meaning of a name or title); addresses are refused outright, because a "repaired" address
 * could be someone else's.
 */

/** C0/C1 controls, DEL, and the Unicode line and paragraph separators some clients treat as newlines. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Text for a header (subject, display name): one line, control characters replaced, capped. */
export function headerText(value: string, maxLength = 200): string {
  const oneLine = value.normalize('NFC').replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  const chars = [...oneLine];
  return chars.length > maxLength ? `${chars.slice(0, maxLength - 1).join('')}…` : oneLine;
}

export class MailAddressError extends Error {
  override readonly name = 'MailAddressError';
}

/**
 * A single mailbox, as strict as the forms that accept one: no display name, no comments, no
 * quoted local parts, no whitespace or control characters, nothing that separates addresses
 * (`,` `;`) or opens a route (`<` `>` `:`). Returns the address trimmed; throws otherwise.
 */
export function mailboxAddress(value: string): string {
  const address = value.trim();
  if (address.length === 0 || address.length > 254)
    throw new MailAddressError('an email address has 1 to 254 characters');
  if (/[\u0000-\u0020\u007f-\u009f\u2028\u2029]/.test(address)) {
    throw new MailAddressError('an email address has no spaces or control characters');
  }
  // Split first and check each part with a flat pattern: no nested quantifiers to backtrack on.
  const at = address.indexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const labels = domain.split('.');
  if (
    at < 1 ||
    !/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\u0080-\uffff-]{1,64}$/u.test(local) ||
    labels.length < 2 ||
    !labels.every((label) => /^[A-Za-z0-9\u0080-\uffff-]{1,63}$/u.test(label))
  ) {
    throw new MailAddressError('not a single email address like name@example.com');
  }
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..'))
    throw new MailAddressError('not a valid email address');
  if (labels.some((label) => label.startsWith('-') || label.endsWith('-'))) {
    throw new MailAddressError('not a valid email domain');
  }
  return address;
}

/** True when `mailboxAddress` would accept the value. */
export function isMailboxAddress(value: string): boolean {
  try {
    mailboxAddress(value);
    return true;
  } catch {
    return false;
  }
}

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
