/**
 * The one place that decides which spellings of an email name the same account
 * (docs/ACCOUNT_SECURITY.md, "One identifier per account").
 *
 * An account's identifier is its canonical email: surrounding whitespace removed, then the
 * address must pass the very rule registration applies (the JSON-schema `email` format, ASCII
 * only, at most 254 characters), then ASCII letters are lower-cased. Registration stores it
 * (`users.email_canonical`, unique), the database lookup compares it byte for byte, and the
 * lockout counters and the per-account login limit (`login-account`) are keyed by it. Anything
 * registration would refuse is refused everywhere else too: no other spelling reaches an
 * account, a counter or a login budget.
 *
 * Why not Unicode case folding (NFKC, toLowerCase, the database's lower())? They disagree with
 * each other: JavaScript lower-cases "İ" (U+0130) to "i̇" (two code points) while PostgreSQL's
 * lower() gives "i"; NFKC turns the Kelvin sign, "ſ", "ﬀ", fullwidth and mathematical letters into
 * ASCII while lower() leaves them alone; the result of lower() even depends on the database's
 * locale (LC_CTYPE). Any two of them used in different places let one account answer to spellings
 * that the counters see as different identifiers. One ASCII rule, applied in JavaScript and only
 * compared (never folded) in SQL, cannot drift.
 */
import { fullFormats } from 'ajv-formats/dist/formats.js';

/** Longest email accepted anywhere (RFC 5321 path limit, as the request schemas say). */
export const EMAIL_MAX_LENGTH = 254;

/** The `email` format that registration validates with (ajv-formats, the same object). */
const EMAIL_FORMAT: RegExp = fullFormats.email as RegExp;

/**
 * The canonical identifier of an email, or null when registration would refuse the address
 * (callers answer 400, and count nothing against any account).
 */
export function canonicalEmail(raw: string): string | null {
  const email = raw.trim();
  if (email.length === 0 || email.length > EMAIL_MAX_LENGTH || !EMAIL_FORMAT.test(email)) return null;
  // Only ASCII passed the format, so this folds A-Z and nothing else, whatever the locale.
  return email.toLowerCase();
}
