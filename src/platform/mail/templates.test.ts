/**
 * Every template: text and HTML parts, user values escaped in HTML and kept to one line in the
 * subject, and one-time links of the form PUBLIC_URL + path + ?token= (nothing else in the URL).
 */
import { describe, expect, it } from 'vitest';
import { headerText } from './headers.js';
import { createTemplates, mailLink } from './templates.js';
import type { OutgoingMail } from './types.js';

const t = createTemplates({ publicUrl: 'https://me.example/base/', appName: 'Portfolio' });
const evil = '<img src=x onerror=alert(1)>\r\nBcc: victim@evil.test';
const to = { address: 'ada@example.test', name: evil };
const at = new Date('2026-03-01T10:00:00Z');
const token = 'AbC-_123';

const all: Record<string, OutgoingMail> = {
  passwordReset: t.passwordReset({ to, token, ttlSeconds: 3600 }),
  passwordResetNotice: t.passwordResetNotice({ to, at }),
  emailVerification: t.emailVerification({ to, token, ttlSeconds: 86_400 }),
  registerAttempt: t.registerAttempt({ to, at }),
  passwordChanged: t.passwordChanged({ to, at }),
  unlockAccount: t.unlockAccount({ to, token, lockedSeconds: 300, ttlSeconds: 3600 }),
  suspiciousLogin: t.suspiciousLogin({
    to,
    token,
    at,
    ip: '203.0.113.7',
    device: evil,
    reasons: ['new device', evil],
    ttlSeconds: 86_400,
  }),
  contactMessage: t.contactMessage({
    to,
    portfolioTitle: evil,
    senderName: evil,
    senderEmail: 'x@example.test',
    message: evil,
  }),
  mfaResetNotice: t.mfaResetNotice({ to, at }),
  uploadInfected: t.uploadInfected({ to, fileName: evil, at }),
  invitation: t.invitation({ to, token, ttlSeconds: 7 * 86_400, roles: ['editor', evil] }),
};

describe('mail templates', () => {
  it.each(Object.entries(all))('%s has a one-line subject, a text part and an escaped HTML part', (_name, mail) => {
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject.length).toBeGreaterThan(5);
    expect(mail.text.length).toBeGreaterThan(20);
    expect(mail.html).toContain('<!doctype html>');
    expect(mail.html).not.toContain('<img');
    expect(mail.html).not.toMatch(/onerror=alert\(1\)>/);
    expect(mail.text).not.toMatch(/\r\nBcc:/);
  });

  it('puts tokens only in links PUBLIC_URL + path + ?token=', () => {
    const expectLink = (mail: OutgoingMail, path: string) => {
      const href = `https://me.example/base${path}?token=${token}`;
      expect(mail.text).toContain(href);
      expect(mail.html).toContain(`href="${href}"`);
    };
    expectLink(all['passwordReset'] as OutgoingMail, '/reset-password');
    expectLink(all['emailVerification'] as OutgoingMail, '/verify-email');
    expectLink(all['unlockAccount'] as OutgoingMail, '/unlock-account');
    expectLink(all['suspiciousLogin'] as OutgoingMail, '/was-this-you');
    expectLink(all['invitation'] as OutgoingMail, '/accept-invite');
    for (const name of [
      'passwordResetNotice',
      'registerAttempt',
      'passwordChanged',
      'contactMessage',
      'mfaResetNotice',
      'uploadInfected',
    ]) {
      expect(all[name]?.text).not.toContain('token=');
    }
  });

  it('encodes the token as a query value and drops anything PUBLIC_URL had after its path', () => {
    expect(mailLink('https://me.example', '/reset-password', 'a+b/c=&d')).toBe(
      'https://me.example/reset-password?token=a%2Bb%2Fc%3D%26d',
    );
    expect(mailLink('https://me.example/app?x=1#frag', '/verify-email', 't')).toBe(
      'https://me.example/app/verify-email?token=t',
    );
  });

  it('gives the contact sender as Reply-To and states the lifetimes in words', () => {
    expect(all['contactMessage']?.replyTo).toBe('x@example.test');
    expect(all['passwordReset']?.text).toContain('60 minutes');
    expect(all['emailVerification']?.text).toContain('24 hours');
    expect(all['unlockAccount']?.text).toContain('5 minutes');
    expect(all['invitation']?.text).toContain('7 days');
  });

  it('headerText removes every kind of line break and control character, and caps the length', () => {
    expect(headerText('a\r\nb\nc\rd\u2028e\u2029f\u0085g\u0000h\u001bi')).toBe('a b c d e f g h i');
    expect([...headerText('é'.repeat(500))]).toHaveLength(200);
  });
});
