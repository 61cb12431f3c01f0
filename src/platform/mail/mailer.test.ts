/**
 * The outbox mailer against a real SMTP server on loopback: a mail is queued in the caller's
 * transaction, an SMTP outage delays it (never fails the request, never loses the mail), retries
 * back off, hopeless mails are given up with their bodies erased, and several nodes sharing one
 * outbox never deliver a mail twice.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDb } from '../../../test/helpers/app.js';
import { TEST_DATABASE_URL } from '../../../test/helpers/services.js';
import { ManualClock } from '../clock.js';
import { openDb, type Db } from '../db/index.js';
import { migrate } from '../db/migrate.js';
import { MailAddressError } from './headers.js';
import { Mailer, type MailerOptions } from './mailer.js';
import { startSmtpServer, type TestSmtpServer } from '../../../test/support/mail/smtp-server.js';
import { createFileTransport, createSmtpTransport } from './transport.js';
import type { OutgoingMail } from './types.js';

let db: Db;
let drop: () => Promise<void>;
let smtp: TestSmtpServer;
let clock: ManualClock;
const mailers: Mailer[] = [];

function mailer(overrides: Partial<MailerOptions> = {}): Mailer {
  const m = new Mailer({
    db,
    clock,
    transport: createSmtpTransport({ url: smtp.url, timeoutMs: 2_000 }),
    from: 'Portfolio <no-reply@example.test>',
    publicUrl: 'https://portfolio.example/app/',
    maxAttempts: 4,
    pollIntervalMs: 0,
    ...overrides,
  });
  mailers.push(m);
  return m;
}

function mail(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    template: 'test',
    to: { address: 'ada@example.test', name: 'Ada' },
    subject: 'Hello',
    text: 'Body',
    ...overrides,
  };
}

beforeAll(async () => {
  ({ db, drop } = await openTestDb());
  await migrate(db);
});
afterAll(async () => {
  await drop();
});
beforeEach(async () => {
  clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));
  smtp = await startSmtpServer();
  await db.query('delete from mail_outbox');
});
afterEach(async () => {
  for (const m of mailers.splice(0)) await m.stop();
  await smtp.close();
});

describe('delivery through SMTP', () => {
  it('delivers a rendered template with its one-time link, then erases the body', async () => {
    const m = mailer();
    const id = await m.enqueue(
      m.templates.passwordReset({
        to: { address: 'ada@example.test', name: 'Ada <Admin>' },
        token: 'tok_EN-123',
        ttlSeconds: 3600,
      }),
    );
    expect(await m.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });
    const [got] = await smtp.waitFor(1);
    expect(got?.envelope.to).toEqual(['ada@example.test']);
    expect(got?.envelope.from).toBe('no-reply@example.test');
    expect(got?.parsed.messageId).toBe(`<${id}@portfolio.example>`);
    expect(got?.parsed.subject).toBe('Reset your Portfolio password');
    expect(got?.parsed.text).toContain('https://portfolio.example/app/reset-password?token=tok_EN-123');
    expect(got?.parsed.text).toContain('60 minutes');
    // The display name is escaped in HTML, and the link is there as an attribute.
    expect(got?.parsed.html).toContain('Hello Ada &lt;Admin&gt;,');
    expect(got?.parsed.html).toContain('href="https://portfolio.example/app/reset-password?token=tok_EN-123"');
    expect(got?.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    const row = await m.outbox.get(id);
    expect(row).toMatchObject({ status: 'sent', textBody: '', htmlBody: null, attempts: 1 });
  });

  it('queues inside the caller transaction: a rollback sends nothing, a commit sends', async () => {
    const m = mailer();
    await expect(
      db.transaction(async (tx) => {
        await m.enqueue(mail({ subject: 'rolled back' }), tx);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await db.transaction(async (tx) => {
      await m.enqueue(mail({ subject: 'committed' }), tx);
    });
    await m.runOnce();
    await smtp.waitFor(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(smtp.received.map((r) => r.parsed.subject)).toEqual(['committed']);
  });
});

describe('SMTP outage', () => {
  it('keeps the mail while the server is down and delivers it once it is back', async () => {
    const port = smtp.port;
    await smtp.close();
    const m = mailer();
    // The request path only writes the row: it succeeds with the server down.
    const id = await m.enqueue(mail({ subject: 'survives the outage' }));
    expect(await m.runOnce()).toEqual({ sent: 0, retried: 1, dead: 0 });
    let row = await m.outbox.get(id);
    expect(row?.status).toBe('pending');
    expect(row?.lastError).toMatch(/ECONNREFUSED|ESOCKET|ECONNECTION/);
    expect(row?.nextAttemptAt.getTime()).toBe(clock.now().getTime() + 30_000);
    // Not due yet: nothing is tried.
    expect(await m.runOnce()).toEqual({ sent: 0, retried: 0, dead: 0 });

    smtp = await startSmtpServer(port);
    clock.advance(30_000);
    expect(await m.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });
    const got = await smtp.waitFor(1);
    expect(got[0]?.parsed.subject).toBe('survives the outage');
    row = await m.outbox.get(id);
    expect(row).toMatchObject({ status: 'sent', attempts: 2 });
    expect(await m.runOnce()).toEqual({ sent: 0, retried: 0, dead: 0 });
    expect(smtp.received).toHaveLength(1);
  });

  it('backs off exponentially and gives up after the last attempt, erasing the body', async () => {
    smtp.rejectWith = 451;
    const m = mailer({ maxAttempts: 4 });
    const id = await m.enqueue(mail({ text: 'secret link' }));
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect(await m.runOnce()).toEqual({ sent: 0, retried: 1, dead: 0 });
      const row = await m.outbox.get(id);
      const delay = (row?.nextAttemptAt.getTime() ?? 0) - clock.now().getTime();
      delays.push(delay);
      clock.advance(delay);
    }
    expect(delays).toEqual([30_000, 60_000, 120_000]);
    expect(await m.runOnce()).toEqual({ sent: 0, retried: 0, dead: 1 });
    const row = await m.outbox.get(id);
    expect(row).toMatchObject({ status: 'dead', attempts: 4, textBody: '', htmlBody: null });
    expect(row?.lastError).toContain('451');
    clock.advance(3_600_000);
    expect(await m.runOnce()).toEqual({ sent: 0, retried: 0, dead: 0 });
  });

  it('gives up at once on a permanent refusal (550 no such mailbox)', async () => {
    smtp.rejectWith = 550;
    const dead: string[] = [];
    const m = mailer({ onDead: async (r) => void dead.push(r.id) });
    const id = await m.enqueue(mail());
    expect(await m.runOnce()).toEqual({ sent: 0, retried: 0, dead: 1 });
    expect(dead).toEqual([id]);
  });

  it('caps the backoff at an hour', () => {
    const m = mailer();
    expect([1, 2, 3, 8, 9, 40].map((n) => m.backoffMs(n))).toEqual([
      30_000, 60_000, 120_000, 3_600_000, 3_600_000, 3_600_000,
    ]);
  });
});

describe('several nodes sharing one outbox', () => {
  it('never delivers a mail twice when nodes run at the same moment', async () => {
    // Each "node" has its own database connection pool (on PostgreSQL) and its own transport.
    const extra: Db[] = [];
    const nodeDbs: Db[] = [db];
    if (TEST_DATABASE_URL) {
      const [{ schema }] = (await db.query<{ schema: string }>('select current_schema() as schema')) as [
        { schema: string },
      ];
      for (let i = 0; i < 3; i++) {
        const other = await openDb({ url: TEST_DATABASE_URL, dataDir: 'unused', schema, poolSize: 3 });
        extra.push(other);
        nodeDbs.push(other);
      }
    }
    try {
      const nodes = Array.from({ length: 4 }, (_, i) =>
        mailer({ db: nodeDbs[i % nodeDbs.length] as Db, batchSize: 3 }),
      );
      const total = 40;
      for (let i = 0; i < total; i++) await nodes[0]?.enqueue(mail({ subject: `mail ${i}` }));
      const runs = await Promise.all(nodes.flatMap((n) => [n.runOnce(), n.runOnce()]));
      expect(runs.reduce((s, r) => s + r.sent, 0)).toBe(total);
      await smtp.waitFor(total);
      await new Promise((r) => setTimeout(r, 200));
      const ids = smtp.received.map((r) => r.parsed.messageId);
      expect(ids).toHaveLength(total);
      expect(new Set(ids).size).toBe(total);
      expect(await nodes[0]?.outbox.counts()).toEqual({ pending: 0, sending: 0, sent: total, dead: 0 });
    } finally {
      for (const other of extra) await other.close();
    }
  });

  it('takes over the rows of a node that died mid-send once its lease runs out', async () => {
    const m = mailer();
    const id = await m.enqueue(mail({ subject: 'orphaned' }));
    // A node claims the row and dies before sending or settling it.
    const lease = new Date(clock.now().getTime() + 5 * 60_000);
    expect(await m.outbox.claim(clock.now(), 10, '00000000-0000-4000-8000-000000000000', lease)).toHaveLength(1);
    expect(await m.runOnce()).toEqual({ sent: 0, retried: 0, dead: 0 });
    clock.advance(5 * 60_000);
    expect(await m.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });
    expect((await smtp.waitFor(1))[0]?.parsed.messageId).toBe(`<${id}@portfolio.example>`);
  });
});

describe('header injection', () => {
  it('cannot add a header or a recipient through the subject or the display name', async () => {
    const m = mailer();
    await m.enqueue(
      mail({
        to: { address: 'ada@example.test', name: 'Ada\r\nBcc: victim@evil.test' },
        subject: 'Hi\r\nBcc: victim@evil.test\r\n\r\nforged body',
      }),
    );
    await m.runOnce();
    const [got] = await smtp.waitFor(1);
    expect(got?.envelope.to).toEqual(['ada@example.test']);
    expect(got?.parsed.bcc).toBeUndefined();
    expect(got?.parsed.headers.has('bcc')).toBe(false);
    expect(got?.parsed.subject).toBe('Hi Bcc: victim@evil.test forged body');
    expect(got?.parsed.text?.trim()).toBe('Body');
    expect(got?.raw).not.toMatch(/^Bcc:/im);
  });

  it('refuses recipients and reply-to addresses that are not one plain mailbox', async () => {
    const m = mailer();
    const bad = [
      'ada@example.test\r\nBcc: victim@evil.test',
      'ada@example.test\nX: y',
      'ada@example.test, victim@evil.test',
      'Ada <ada@example.test>',
      'ada@example.test;victim@evil.test',
      '"a\r\nb"@example.test',
      'ada@example.test\u2028x',
      'no-at-sign',
      'a@b',
      `${'a'.repeat(65)}@example.test`,
    ];
    for (const address of bad) {
      await expect(m.enqueue(mail({ to: { address } }))).rejects.toBeInstanceOf(MailAddressError);
      await expect(m.enqueue(mail({ replyTo: address }))).rejects.toBeInstanceOf(MailAddressError);
    }
    expect(await m.outbox.counts()).toEqual({ pending: 0, sending: 0, sent: 0, dead: 0 });
  });
});

describe('file transport (embedded default)', () => {
  it('writes each mail as a private .eml file that a mail parser reads back', async () => {
    const dir = path.join((await import('node:os')).tmpdir(), `pf-outbox-${process.pid}-${Date.now()}`);
    const m = mailer({ transport: createFileTransport(dir) });
    const id = await m.enqueue(
      m.templates.emailVerification({ to: { address: 'ada@example.test' }, token: 'abc', ttlSeconds: 86_400 }),
    );
    expect(await m.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });
    const files = (await readdir(dir)).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(1);
    const file = path.join(dir, files[0] as string);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const parsed = await simpleParser(await readFile(file));
    expect(parsed.messageId).toBe(`<${id}@portfolio.example>`);
    expect(parsed.text).toContain('https://portfolio.example/app/verify-email?token=abc');
    expect(parsed.text).toContain('24 hours');
  });
});
