/**
 * RFC 9116 (security.txt) without Fastify: the config parsers for its fields, rendering the file,
 * and parsing a file by the RFC's rules. Kept free of runtime imports so `src/config/schema.ts`,
 * the HTTP plugin, `npm run security` and the tests all share one reading of the RFC.
 */
import { hrefOf, type PublicUrlSource } from '../config/public-url.js';
import type { Config } from '../config/schema.js';

const DAY_MS = 86_400_000;

/** RFC 9116 §2.5.5: "it is RECOMMENDED that the value of the Expires field be less than a year into the future". */
export const MAX_EXPIRES_AHEAD_MS = 366 * DAY_MS;
/** The boot warning fires this long before Expires, so someone renews it before it lapses. */
export const EXPIRY_WARNING_MS = 30 * DAY_MS;
/** Outside production, with SECURITY_TXT_EXPIRES unset, the file expires this far ahead of "now". */
export const DEV_EXPIRES_AHEAD_MS = 90 * DAY_MS;

// ---- config parsers (used by src/config/schema.ts) --------------------------------------------

function parseUri(raw: string, schemes: readonly string[], what: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`"${raw}" is not a URI (${what})`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) {
    // RFC 9116 §2.5: web URIs MUST use https; http would let a network attacker swap the address.
    throw new Error(`"${raw}" must use one of the schemes ${schemes.join(', ')} (${what})`);
  }
  return raw;
}

/** SECURITY_CONTACT: comma-separated mailto:, https: or tel: URIs (RFC 9116 §2.5.3). */
export function contactList(raw: string): string[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new Error('must list at least one mailto:, https: or tel: URI');
  return items.map((item) => parseUri(item, ['mailto', 'https', 'tel'], 'Contact'));
}

/** A URI parser limited to the given schemes, for Policy, Encryption and Acknowledgments. */
export function uriOf(schemes: readonly string[], what: string): (raw: string) => string {
  return (raw) => parseUri(raw.trim(), schemes, what);
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
/**
 * RFC 3339 §5.6 `date-time` (the only form RFC 9116 §2.5.5 allows for Expires), as two flat
 * patterns (with and without fractional seconds): no nested quantifiers, so no ReDoS risk.
 */
const RFC3339_WHOLE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:[Zz]|[+-]\d{2}:\d{2})$/;
const RFC3339_FRACTION = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}\.\d{1,9}(?:[Zz]|[+-]\d{2}:\d{2})$/;
export function isRfc3339DateTime(value: string): boolean {
  return RFC3339_WHOLE.test(value) || RFC3339_FRACTION.test(value);
}

/**
 * SECURITY_TXT_EXPIRES: an ISO 8601 date (`2027-06-30`, read as midnight UTC) or an RFC 3339
 * date-time, at most a year ahead. Returned normalised (`toISOString()`), which is the form served.
 * A date already past is accepted here (development keeps booting, with a warning); production
 * refuses it in `securityTxtProductionProblems`.
 */
export function expiresInstant(raw: string, now: Date = new Date()): string {
  const v = raw.trim();
  if (!DATE_ONLY.test(v) && !isRfc3339DateTime(v))
    throw new Error(`must be an ISO 8601 date (2027-06-30) or date-time (2027-06-30T00:00:00Z), got "${raw}"`);
  const date = new Date(DATE_ONLY.test(v) ? `${v}T00:00:00Z` : v);
  // Date accepts 2027-02-31 by rolling over; compare the fields to refuse impossible dates.
  if (Number.isNaN(date.getTime()) || (DATE_ONLY.test(v) && date.toISOString().slice(0, 10) !== v)) {
    throw new Error(`"${raw}" is not a real date`);
  }
  if (date.getTime() - now.getTime() > MAX_EXPIRES_AHEAD_MS) {
    throw new Error('must be at most a year ahead (RFC 9116 §2.5.5): renew the file yearly instead');
  }
  return date.toISOString();
}

/** BCP 47 language tags, loosely (RFC 5646 is far richer; this refuses obvious mistakes). */
function isLanguageTag(tag: string): boolean {
  const [primary, ...subtags] = tag.split('-');
  return /^[A-Za-z]{2,8}$/.test(primary ?? '') && subtags.every((s) => /^[A-Za-z0-9]{1,8}$/.test(s));
}

/** SECURITY_PREFERRED_LANGUAGES: comma-separated language tags (RFC 9116 §2.5.8). */
export function languageTags(raw: string): string[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new Error('must list at least one language tag, e.g. en');
  for (const item of items) {
    if (!isLanguageTag(item)) throw new Error(`"${item}" is not a language tag like en or pt-BR`);
  }
  return items;
}

// ---- from configuration to fields ----------------------------------------------------------------

export type SecurityTxtConfig = Pick<
  Config,
  | 'NODE_ENV'
  | 'SECURITY_CONTACT'
  | 'SECURITY_TXT_EXPIRES'
  | 'SECURITY_POLICY_URL'
  | 'SECURITY_ENCRYPTION_URL'
  | 'SECURITY_ACKNOWLEDGMENTS_URL'
  | 'SECURITY_PREFERRED_LANGUAGES'
>;

export interface SecurityTxtFields {
  contact: string[];
  expires: Date;
  encryption?: string | undefined;
  acknowledgments?: string | undefined;
  preferredLanguages: string[];
  canonical: string;
  policy?: string | undefined;
}

export const WELL_KNOWN_PATH = '/.well-known/security.txt';
export const POLICY_PATH = '/security-policy';

function linkTo(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/**
 * The fields served. Outside production an unset Contact falls back to security@<public host> and
 * an unset Expires to 90 days from now, so a laptop serves a valid file without configuration;
 * production refuses to start without both (see `securityTxtProductionProblems`).
 * `servesPolicy`: whether this server publishes SECURITY.md at /security-policy (the default Policy).
 */
export function securityTxtFields(
  config: SecurityTxtConfig,
  publicUrl: PublicUrlSource,
  now: Date,
  servesPolicy = true,
): SecurityTxtFields {
  const base = hrefOf(publicUrl);
  const host = new URL(base).hostname;
  return {
    contact: config.SECURITY_CONTACT ?? [`mailto:security@${host}`],
    expires: config.SECURITY_TXT_EXPIRES
      ? new Date(config.SECURITY_TXT_EXPIRES)
      : new Date(now.getTime() + DEV_EXPIRES_AHEAD_MS),
    encryption: config.SECURITY_ENCRYPTION_URL,
    acknowledgments: config.SECURITY_ACKNOWLEDGMENTS_URL,
    preferredLanguages: config.SECURITY_PREFERRED_LANGUAGES,
    canonical: linkTo(base, WELL_KNOWN_PATH),
    policy: config.SECURITY_POLICY_URL ?? (servesPolicy ? linkTo(base, POLICY_PATH) : undefined),
  };
}

/** Renders the file: one `Name: value` per line, LF line ends, UTF-8 (RFC 9116 §2.2, §3). */
export function renderSecurityTxt(fields: SecurityTxtFields): string {
  const lines = [
    '# Vulnerability disclosure contact for this service (RFC 9116).',
    '# Please read the Policy before testing; reports in good faith are welcome.',
    ...fields.contact.map((c) => `Contact: ${c}`),
    `Expires: ${fields.expires.toISOString()}`,
  ];
  if (fields.encryption) lines.push(`Encryption: ${fields.encryption}`);
  if (fields.acknowledgments) lines.push(`Acknowledgments: ${fields.acknowledgments}`);
  lines.push(`Preferred-Languages: ${fields.preferredLanguages.join(', ')}`);
  lines.push(`Canonical: ${fields.canonical}`);
  if (fields.policy) lines.push(`Policy: ${fields.policy}`);
  return `${lines.join('\n')}\n`;
}

// ---- expiry rules shared by boot, production refusal and `npm run security` ------------------

/** Production refuses to start on these (called from `productionProblems`). */
export function securityTxtProductionProblems(
  config: SecurityTxtConfig,
  now: Date = new Date(),
): { key: string; reason: string }[] {
  if (config.NODE_ENV !== 'production') return [];
  const problems: { key: string; reason: string }[] = [];
  if (!config.SECURITY_CONTACT) {
    problems.push({
      key: 'SECURITY_CONTACT',
      reason: 'must be set in production: where researchers report vulnerabilities (security.txt Contact)',
    });
  }
  if (!config.SECURITY_TXT_EXPIRES) {
    problems.push({
      key: 'SECURITY_TXT_EXPIRES',
      reason: 'must be set in production (an ISO date at most a year ahead)',
    });
  } else if (new Date(config.SECURITY_TXT_EXPIRES).getTime() <= now.getTime()) {
    // RFC 9116 §2.5.5: an expired file must be treated as stale; serving it tells researchers the
    // contact may be dead, which is worse than refusing to start until someone renews it.
    problems.push({
      key: 'SECURITY_TXT_EXPIRES',
      reason: `${config.SECURITY_TXT_EXPIRES} has passed: renew security.txt (at most a year ahead)`,
    });
  }
  return problems;
}

/**
 * The boot warning: a message when Expires is under 30 days away (or already past outside
 * production), otherwise undefined. server.ts logs it with `app.log.warn`.
 */
export function securityTxtExpiryWarning(
  config: Pick<Config, 'SECURITY_TXT_EXPIRES'>,
  now: Date = new Date(),
): string | undefined {
  if (!config.SECURITY_TXT_EXPIRES) return undefined;
  const left = new Date(config.SECURITY_TXT_EXPIRES).getTime() - now.getTime();
  if (left <= 0)
    return `security.txt expired at ${config.SECURITY_TXT_EXPIRES}: set SECURITY_TXT_EXPIRES to a date at most a year ahead`;
  if (left < EXPIRY_WARNING_MS) {
    const days = Math.ceil(left / DAY_MS);
    return `security.txt expires in ${days} day${days === 1 ? '' : 's'} (${config.SECURITY_TXT_EXPIRES}): renew SECURITY_TXT_EXPIRES`;
  }
  return undefined;
}

// ---- parsing a served file by the RFC's rules ----------------------------------------------------

export interface ParsedField {
  name: string;
  value: string;
  line: number;
}

export interface SecurityTxtReport {
  fields: ParsedField[];
  /** Violations of a MUST in RFC 9116. */
  errors: string[];
  /** Departures from a SHOULD/RECOMMENDED. */
  warnings: string[];
}

const KNOWN_FIELDS = [
  'acknowledgments',
  'canonical',
  'contact',
  'csaf',
  'encryption',
  'expires',
  'hiring',
  'policy',
  'preferred-languages',
];
/** Fields that may appear at most once (§2.5.5, §2.5.8). */
const SINGLE_FIELDS = ['expires', 'preferred-languages'];
/** Allowed URI schemes per field; web URIs MUST be https (§2.5). */
const URI_SCHEMES: Record<string, readonly string[]> = {
  acknowledgments: ['https'],
  canonical: ['https'],
  contact: ['https', 'mailto', 'tel'],
  csaf: ['https'],
  encryption: ['https', 'openpgp4fpr', 'dns'],
  hiring: ['https'],
  policy: ['https'],
};
/** ABNF of §4: field-name = 1*(ALPHA / DIGIT / "-"), then ":" and optional whitespace. */
const FIELD_LINE = /^([A-Za-z0-9-]+):[ \t]*(.*?)[ \t]*$/;

export interface ParseOptions {
  /** Compare Expires against this instant (unset: the expiry is not judged). */
  now?: Date;
  /** Allow http:// web URIs (a development server without TLS). */
  allowHttp?: boolean;
  /** The address the file was fetched from; RFC 9116 §2.5.2 wants it among the Canonical values. */
  fetchedFrom?: string;
}

/** Parses a security.txt and reports every departure from RFC 9116. */
export function parseSecurityTxt(text: string, options: ParseOptions = {}): SecurityTxtReport {
  const errors: string[] = [];
  const warnings: string[] = [];
  const fields: ParsedField[] = [];
  if (text.startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) {
    errors.push('signed security.txt files are not supported by this checker');
    return { fields, errors, warnings };
  }
  if (text.charCodeAt(0) === 0xfeff) errors.push('line 1: starts with a byte order mark');
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  else if (text.length > 0) errors.push('the last line does not end with a line break (§4)');

  lines.forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === '' || raw.startsWith('#')) return;
    const m = FIELD_LINE.exec(raw);
    if (!m?.[1]) {
      errors.push(`line ${n}: not a "Name: value" field or a # comment: ${JSON.stringify(raw.slice(0, 80))}`);
      return;
    }
    fields.push({ name: m[1], value: m[2] ?? '', line: n });
  });

  const byName = new Map<string, ParsedField[]>();
  for (const f of fields) {
    const key = f.name.toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), f]);
    if (!KNOWN_FIELDS.includes(key)) warnings.push(`line ${f.line}: unknown field "${f.name}" (readers ignore it)`);
    if (f.value === '') errors.push(`line ${f.line}: ${f.name} has an empty value`);
  }

  const contacts = byName.get('contact') ?? [];
  if (contacts.length === 0) errors.push('Contact is required (§2.5.3)');
  const expires = byName.get('expires') ?? [];
  if (expires.length === 0) errors.push('Expires is required (§2.5.5)');
  for (const name of SINGLE_FIELDS) {
    const list = byName.get(name) ?? [];
    if (list.length > 1)
      errors.push(`${list[0]?.name ?? name} appears ${list.length} times; it MUST appear at most once`);
  }

  for (const [name, schemes] of Object.entries(URI_SCHEMES)) {
    for (const f of byName.get(name) ?? []) {
      let u: URL;
      try {
        u = new URL(f.value);
      } catch {
        errors.push(`line ${f.line}: ${f.name} "${f.value}" is not a URI`);
        continue;
      }
      const scheme = u.protocol.replace(/:$/, '');
      const allowed = options.allowHttp && schemes.includes('https') ? [...schemes, 'http'] : schemes;
      if (!allowed.includes(scheme)) {
        errors.push(`line ${f.line}: ${f.name} must use ${schemes.join(', ')}, got "${scheme}:"`);
      }
    }
  }

  const exp = expires[0];
  if (exp) {
    if (!isRfc3339DateTime(exp.value)) {
      errors.push(`line ${exp.line}: Expires "${exp.value}" is not an RFC 3339 date-time (§2.5.5)`);
    } else if (options.now) {
      const left = new Date(exp.value).getTime() - options.now.getTime();
      if (left <= 0) errors.push(`line ${exp.line}: Expires ${exp.value} has passed: the file is stale (§2.5.5)`);
      else if (left > MAX_EXPIRES_AHEAD_MS)
        warnings.push(`line ${exp.line}: Expires is more than a year ahead (§2.5.5 recommends less)`);
    }
  }

  for (const f of byName.get('preferred-languages') ?? []) {
    for (const tag of f.value.split(',').map((s) => s.trim())) {
      if (!isLanguageTag(tag)) errors.push(`line ${f.line}: "${tag}" is not a language tag (§2.5.8)`);
    }
  }

  if (options.fetchedFrom) {
    const canon = (byName.get('canonical') ?? []).map((f) => f.value);
    if (canon.length > 0 && !canon.includes(options.fetchedFrom)) {
      warnings.push(`fetched from ${options.fetchedFrom}, which is not among the Canonical URIs (§2.5.2)`);
    }
  }
  return { fields, errors, warnings };
}
