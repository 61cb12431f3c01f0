/**
 * TOTP (RFC 6238) through the `otpauth` library: SHA-1, 6 digits, 30-second steps, and a window of
 * one step either side for clock drift. The library answers *which* step matched, which the
 * service needs for replay protection (the last used step is stored; only later steps pass).
 */
import { randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { lazyModule } from '../../platform/lazy.js';

/** qrcode (and its PNG encoder) loads with the first enrollment, not at start. */
const loadQrCode = lazyModule((): Promise<typeof import('qrcode')> => import('qrcode'));

export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;
export const TOTP_WINDOW = 1;

/** A new secret: 160 bits (RFC 4226 recommends the HMAC output size), base32 as apps expect. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secretBase32: string, issuer = '', label = ''): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** The otpauth:// URI authenticator apps read from the QR code. */
export function totpUri(secretBase32: string, issuer: string, accountEmail: string): string {
  return totp(secretBase32, issuer, accountEmail).toString();
}

/** The URI as a PNG data URL (what the enrollment screen shows). */
export async function qrDataUrl(uri: string): Promise<string> {
  const QRCode = await loadQrCode();
  return QRCode.toDataURL(uri, { type: 'image/png', errorCorrectionLevel: 'M', margin: 2, width: 256 });
}

/** The time step of an instant. */
export function stepAt(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD);
}

/** Only six ASCII digits can be a code; anything else is refused before any HMAC is computed. */
export function isCodeShape(code: string): boolean {
  return /^\d{6}$/.test(code);
}

/**
 * The time step a code belongs to, if it is valid within the window around `nowMs`; null
 * otherwise. otpauth compares in constant time.
 */
export function matchStep(secretBase32: string, code: string, nowMs: number): number | null {
  if (!isCodeShape(code)) return null;
  const delta = totp(secretBase32).validate({ token: code, timestamp: nowMs, window: TOTP_WINDOW });
  return delta === null ? null : stepAt(nowMs) + delta;
}

/** A code for a given instant (tests and the CLI; codes the user types come from their app). */
export function codeAt(secretBase32: string, nowMs: number): string {
  return totp(secretBase32).generate({ timestamp: nowMs });
}

// ---- backup codes ---------------------------------------------------------------------------

/**
 * Crockford-style alphabet without the look-alikes 0/O, 1/I/L and U: a code read from paper and
 * typed back cannot be misread. 30 symbols x 10 characters = about 49 bits per code.
 */
export const BACKUP_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
export const BACKUP_CODE_COUNT = 10;
const BACKUP_CODE_LENGTH = 10;

/** A code as shown: XXXXX-XXXXX. */
export function newBackupCode(): string {
  let s = '';
  for (let i = 0; i < BACKUP_CODE_LENGTH; i++) s += BACKUP_ALPHABET[randomInt(BACKUP_ALPHABET.length)];
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}

/**
 * The canonical form of a typed code: upper case, separators and spaces dropped. Null when it
 * cannot be a code (wrong length or a character outside the alphabet), so junk never reaches
 * the database.
 */
export function normaliseBackupCode(input: string): string | null {
  const s = input.toUpperCase().replace(/[\s-]/g, '');
  if (s.length !== BACKUP_CODE_LENGTH) return null;
  for (const ch of s) if (!BACKUP_ALPHABET.includes(ch)) return null;
  return s;
}
