/**
 * Parsers for the MFA configuration variables (used by src/config/sections/mfa.ts). They import
 * only the generic parsers (src/config/parsers.ts, which imports nothing), so the schema can import
 * them without a cycle. WEBAUTHN_ORIGIN uses the shared origin parser there.
 */

import { list } from '../../config/parsers.js';

/** MFA_ENCRYPTION_KEY: one key or several, comma-separated; the first encrypts, all decrypt. */
export function parseEncryptionKeys(raw: string): string[] {
  const keys = list(raw);
  if (keys.length === 0) throw new Error('must hold at least one key');
  for (const [i, key] of keys.entries()) {
    if (key.length < 32)
      throw new Error(`key ${i + 1} must be at least 32 characters (e.g. 32 random bytes in base64url)`);
  }
  if (new Set(keys).size !== keys.length) throw new Error('the same key is listed twice');
  return keys;
}

/** MFA_REQUIRED_ROLES: role names, comma-separated, or `none`. */
export function parseRequiredRoles(raw: string): string[] {
  const items = list(raw);
  if (items.length === 1 && items[0]?.toLowerCase() === 'none') return [];
  for (const item of items) {
    if (!/^[a-z][a-z0-9_-]{0,49}$/.test(item)) throw new Error(`"${item}" is not a role name`);
  }
  return items;
}

/** WEBAUTHN_RP_ID: a registrable domain name (no scheme, port or path), e.g. example.com or localhost. */
export function parseRpId(raw: string): string {
  const v = raw.trim().toLowerCase();
  const labels = v.split('.');
  const ok =
    v.length > 0 &&
    v.length <= 253 &&
    labels.every(
      (l) => l.length >= 1 && l.length <= 63 && /^[a-z0-9-]+$/.test(l) && !l.startsWith('-') && !l.endsWith('-'),
    );
  if (!ok) throw new Error(`"${raw}" is not a domain name like example.com (no scheme, port or path)`);
  return v;
}
