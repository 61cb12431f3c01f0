/**
 * The building blocks, against published references: TOTP against the RFC 6238 Appendix B test
 * vectors (SHA-1, truncated to our 6 digits), and the at-rest encryption against the attacks on
 * it: a flipped bit, a ciphertext moved to another user, an unknown or retired key; key rotation.
 */
import { describe, expect, it } from 'vitest';
import { MfaDecryptError, MfaKeyRing } from './crypto.js';
import { BACKUP_ALPHABET, codeAt, matchStep, newBackupCode, normaliseBackupCode, stepAt } from './totp.js';
import { oathCode } from '../../../test/support/mfa/helpers.js';
import { parseEncryptionKeys, parseRequiredRoles } from './config.js';

// RFC 6238 Appendix B: the ASCII secret "12345678901234567890" in base32.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC_VECTORS: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP', () => {
  it('matches the RFC 6238 SHA-1 test vectors (last 6 digits), and oathtool', () => {
    for (const [seconds, eight] of RFC_VECTORS) {
      const expected = eight.slice(-6);
      expect(codeAt(RFC_SECRET, seconds * 1000)).toBe(expected);
      expect(oathCode(RFC_SECRET, seconds * 1000)).toBe(expected);
      expect(matchStep(RFC_SECRET, expected, seconds * 1000)).toBe(stepAt(seconds * 1000));
    }
  });

  it('names the step a code belongs to within ±1 step, and nothing outside', () => {
    const t = 1_700_000_000_000;
    expect(matchStep(RFC_SECRET, codeAt(RFC_SECRET, t - 30_000), t)).toBe(stepAt(t) - 1);
    expect(matchStep(RFC_SECRET, codeAt(RFC_SECRET, t + 30_000), t)).toBe(stepAt(t) + 1);
    expect(matchStep(RFC_SECRET, codeAt(RFC_SECRET, t + 60_000), t)).toBeNull();
    for (const junk of ['', '12345', '1234567', 'abcdef', ' 12345', '１２３４５６'])
      expect(matchStep(RFC_SECRET, junk, t)).toBeNull();
  });
});

describe('backup codes', () => {
  it('use an unambiguous alphabet (no 0/O, 1/I/L, U) and normalise what users type', () => {
    for (const ch of '01OILU') expect(BACKUP_ALPHABET).not.toContain(ch);
    const code = newBackupCode();
    expect(code).toMatch(/^[^-]{5}-[^-]{5}$/);
    expect(normaliseBackupCode(` ${code.toLowerCase()} `)).toBe(code.replace('-', ''));
    expect(normaliseBackupCode('AAAAA-BBBB')).toBeNull();
    expect(normaliseBackupCode('AAAAA-BBBB0')).toBeNull();
    expect(new Set(Array.from({ length: 200 }, newBackupCode)).size).toBe(200);
  });
});

describe('secrets at rest', () => {
  const ring = new MfaKeyRing(['k'.repeat(40)]);

  it('round-trips, with a fresh nonce each time', () => {
    const a = ring.encrypt('JBSWY3DPEHPK3PXP', 'user-1');
    const b = ring.encrypt('JBSWY3DPEHPK3PXP', 'user-1');
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.keyId).toBe(ring.currentKeyId);
    expect(ring.decrypt(a.ciphertext, a.keyId, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
  });

  it('refuses a flipped bit, another user, an unknown key, and junk', () => {
    const { ciphertext, keyId } = ring.encrypt('JBSWY3DPEHPK3PXP', 'user-1');
    const [v, n, body] = ciphertext.split('.');
    const raw = Buffer.from(body!, 'base64url');
    raw[0] = raw[0]! ^ 1;
    expect(() => ring.decrypt(`${v}.${n}.${raw.toString('base64url')}`, keyId, 'user-1')).toThrow(MfaDecryptError);
    expect(() => ring.decrypt(ciphertext, keyId, 'user-2')).toThrow(MfaDecryptError);
    expect(() => ring.decrypt(ciphertext, 'ffffffffffffffff', 'user-1')).toThrow(MfaDecryptError);
    for (const junk of ['', 'v1', 'v1..', 'v2.a.b', `${v}.${n}`, `${v}.AAAA.${body}`])
      expect(() => ring.decrypt(junk, keyId, 'user-1')).toThrow(MfaDecryptError);
  });

  it('rotates: a new first key encrypts, the old one still decrypts; without it, old rows fail', () => {
    const old = ring.encrypt('SECRETSECRET', 'u');
    const rotated = new MfaKeyRing(['n'.repeat(40), 'k'.repeat(40)]);
    expect(rotated.currentKeyId).not.toBe(old.keyId);
    expect(rotated.decrypt(old.ciphertext, old.keyId, 'u')).toBe('SECRETSECRET');
    expect(rotated.encrypt('x', 'u').keyId).toBe(rotated.currentKeyId);
    expect(() => new MfaKeyRing(['n'.repeat(40)]).decrypt(old.ciphertext, old.keyId, 'u')).toThrow(MfaDecryptError);
    // Backup-code hashes are keyed: one per configured key, current first.
    expect(rotated.backupCodeHashes('u', 'ABCDEFGHJK').map((h) => h.keyId)).toEqual([rotated.currentKeyId, old.keyId]);
  });

  it('configuration refuses short or repeated keys; roles accept none', () => {
    expect(() => parseEncryptionKeys('short')).toThrow(/32/);
    expect(() => parseEncryptionKeys(`${'a'.repeat(32)},${'a'.repeat(32)}`)).toThrow(/twice/);
    expect(parseEncryptionKeys(`${'a'.repeat(32)}, ${'b'.repeat(32)}`)).toHaveLength(2);
    expect(parseRequiredRoles('none')).toEqual([]);
    expect(parseRequiredRoles('admin, editor')).toEqual(['admin', 'editor']);
    expect(() => parseRequiredRoles('Admin!')).toThrow();
  });
});
