/**
 * The account-security and mail settings are checked at boot: a MAIL_FROM that could inject a
 * header, an SMTP_URL of another scheme or a malformed lockout policy stop the server with the key.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/index.js';
import { defaultFrom } from '../../platform/mail/plugin.js';
import { emailVerificationMode } from './service.js';

function problemKeys(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.key);
    throw err;
  }
}

describe('account security configuration', () => {
  it('refuses a MAIL_FROM with a line break or without an address', () => {
    expect(problemKeys({ MAIL_FROM: 'Portfolio <no-reply@example.com>\r\nBcc: victim@evil.test' })).toEqual([
      'MAIL_FROM',
    ]);
    expect(problemKeys({ MAIL_FROM: 'Portfolio' })).toEqual(['MAIL_FROM']);
    expect(loadConfig({ MAIL_FROM: 'Portfolio <no-reply@example.com>' }).MAIL_FROM).toBe(
      'Portfolio <no-reply@example.com>',
    );
  });

  it('takes SMTP_URL as smtp:// or smtps:// only, and never prints it', () => {
    expect(problemKeys({ SMTP_URL: 'http://mail.example.com' })).toEqual(['SMTP_URL']);
    expect(loadConfig({ SMTP_URL: 'smtps://u:p@mail.example.com:465' }).SMTP_URL).toBe(
      'smtps://u:p@mail.example.com:465',
    );
  });

  it('parses the lockout policy', () => {
    expect(loadConfig({}).LOCKOUT_DURATIONS).toEqual([300, 600, 1800]);
    expect(problemKeys({ LOCKOUT_DURATIONS: '300,0' })).toEqual(['LOCKOUT_DURATIONS']);
    expect(problemKeys({ LOCKOUT_DURATIONS: '' })).toEqual([]);
    expect(problemKeys({ LOCKOUT_THRESHOLD: '0' })).toEqual(['LOCKOUT_THRESHOLD']);
  });

  it('requires email verification in production unless set, and makes a sender from PUBLIC_URL', () => {
    expect(emailVerificationMode({ NODE_ENV: 'production' })).toBe('required');
    expect(emailVerificationMode({ NODE_ENV: 'development' })).toBe('optional');
    expect(emailVerificationMode({ NODE_ENV: 'production', EMAIL_VERIFICATION: 'optional' })).toBe('optional');
    expect(defaultFrom({ MAIL_FROM: undefined }, 'https://api.me.example/v1')).toBe('no-reply@api.me.example');
    expect(defaultFrom({ MAIL_FROM: undefined }, 'http://127.0.0.1:3000')).toBe('no-reply@localhost');
  });
});
