import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../../test/helpers/app.js';
import { waitFor } from '../../../../test/helpers/spawn.js';
import { scrape, valueOf } from '../../../../test/support/monitoring/scrape.js';
import { crashingReceiver, parse5424, Rsyslog, RSYSLOGD } from '../../../../test/support/monitoring/rsyslog.js';
import type { ChainedEvent } from '../../audit/canonical.js';
import { body, frame, ocsfClass, syslogMessage } from './formats.js';
import { SiemRepository } from './repository.js';
import { MAX_PENDING_PAGES, SIEM_PAGE_SIZE, type SiemShipper } from './shipper.js';

const event = (over: Partial<ChainedEvent> = {}): ChainedEvent => ({
  seq: 42,
  v: 1,
  time: '2026-12-05T10:11:12.345Z',
  action: 'auth.login.failed',
  actor: 'anonymous',
  outcome: 'failure',
  ip: '203.0.113.7',
  userAgent: 'curl/8',
  targetType: 'user',
  targetId: '0d9f1c1e-2a43-4f3b-9a39-5d4f1a2b3c4d',
  requestId: 'req-1',
  metadata: { reason: 'bad_password' },
  prevHash: 'a'.repeat(64),
  hash: 'b'.repeat(64),
  ...over,
});

describe('SIEM formats', () => {
  it('frames RFC 5424 with octet counting, the action as MSGID and the seq in structured data', () => {
    const msg = syslogMessage(event(), 'json');
    const parsed = parse5424(msg);
    expect(parsed.pri).toBe(13 * 8 + 4);
    expect(parsed.msgId).toBe('auth.login.failed');
    expect(parsed.seq).toBe(42);
    expect(parsed.time).toBe('2026-12-05T10:11:12.345Z');
    expect(JSON.parse(parsed.msg)).toMatchObject({ seq: 42, action: 'auth.login.failed', outcome: 'failure' });
    const framed = frame('é ok').toString('utf8');
    expect(framed).toBe('5 é ok'); // bytes, not characters
  });

  it('keeps hostile values inside their fields', () => {
    const hostile = event({ action: 'x.y\n<13>1 forged', outcome: 'failure' });
    const line = syslogMessage(hostile, 'json');
    expect(line.split('\n')).toHaveLength(1);
    expect(parse5424(line).msgId).toBe('x.y_<13>1_forged');
    const cef = body(event({ action: 'a|b', userAgent: 'k=v\nnext' }), 'cef');
    expect(cef.split('\n')).toHaveLength(1);
    expect(cef).toContain('|a\\|b|');
    expect(cef).toContain('k\\=v\\nnext');
  });

  it('maps to OCSF classes with the seq in metadata.sequence and metadata.uid', () => {
    const o = JSON.parse(body(event(), 'ocsf')) as {
      class_uid: number;
      type_uid: number;
      status_id: number;
      metadata: { sequence: number; uid: string };
      src_endpoint: { ip: string };
    };
    expect(o.class_uid).toBe(3002);
    expect(o.type_uid).toBe(300201);
    expect(o.status_id).toBe(2);
    expect(o.metadata.sequence).toBe(42);
    expect(o.metadata.uid).toBe('42');
    expect(o.src_endpoint.ip).toBe('203.0.113.7');
    expect(ocsfClass('account.locked').classUid).toBe(3001);
    expect(ocsfClass('mfa.disabled')).toMatchObject({ classUid: 3001, activityId: 11 });
    expect(ocsfClass('content.portfolio.created')).toMatchObject({ classUid: 6003, activityId: 1 });
    expect(ocsfClass('http.delete')).toMatchObject({ classUid: 6003, activityId: 4 });
  });

  it('puts the seq in CEF externalId', () => {
    expect(body(event(), 'cef')).toMatch(
      /^CEF:0\|portfolio\|portfolio-backend\|[^|]+\|auth\.login\.failed\|auth\.login\.failed\|6\|externalId=42 /,
    );
  });
});

describe.skipIf(!RSYSLOGD && process.env.CI !== 'true')('SIEM delivery to a real rsyslog', () => {
  let rs: Rsyslog;
  let t: TestApp;

  beforeAll(async () => {
    rs = await Rsyslog.start();
    t = await buildTestApp({ SIEM_SYSLOG_URL: `tcp://127.0.0.1:${rs.port}`, SIEM_CONFIRM_MS: '300' });
    await t.app.ready();
  });
  afterAll(async () => {
    await t?.close();
    await rs?.close();
  });

  async function record(n: number, tag: string): Promise<void> {
    for (let i = 0; i < n; i++) {
      await t.app.audit.record({
        action: `test.${tag}`,
        actor: 'system',
        outcome: i % 3 === 0 ? 'failure' : 'success',
        metadata: { i },
      });
    }
    await t.app.audit.flush();
  }

  async function sealed(): Promise<ChainedEvent[]> {
    return t.app.audit.repo.range(0, 100_000);
  }

  async function receivedSeqs(): Promise<number[]> {
    return (await rs.lines()).map((l) => parse5424(l).seq);
  }

  it('ships every sealed event in order, fields intact', async () => {
    await record(30, 'ordered');
    const events = await sealed();
    const last = events.at(-1)?.seq ?? 0;
    await waitFor(async () => (await receivedSeqs()).includes(last), 30_000);
    const lines = (await rs.lines()).map(parse5424);
    expect(lines.map((l) => l.seq)).toEqual(events.map((e) => e.seq));
    for (const [i, l] of lines.entries()) {
      const e = events[i] as ChainedEvent;
      expect(l.msgId).toBe(e.action.slice(0, 32));
      expect(l.outcome).toBe(e.outcome);
      expect(l.pri).toBe(13 * 8 + (e.outcome === 'success' ? 6 : 4));
      expect(JSON.parse(l.msg)).toMatchObject({ seq: e.seq, action: e.action, hash: e.hash });
    }
  });

  it('loses nothing when the receiver stops while 1,000 events are written, and resumes from the cursor', async () => {
    const beforeDown = (await sealed()).at(-1)?.seq ?? 0;
    const received = (await rs.lines()).length;
    // The receiver goes away in the middle of the stream: some events are on the wire, in kernel
    // buffers or not yet read when it stops.
    for (let batch = 0; batch < 10; batch++) {
      await record(100, 'while_down');
      if (batch === 2) {
        await waitFor(async () => (await rs.lines()).length >= received + 100, 60_000);
        await rs.stop();
      }
    }
    // Down: the lag counts what is not confirmed, and the cursor does not move.
    await new Promise((r) => setTimeout(r, 1_000));
    // Memory stays bounded: the audit log is the buffer. However many events wait, the shipper
    // holds at most one page of them, MAX_PENDING_PAGES (seq, time) pairs and one page's bytes on
    // the socket; down, it holds nothing at all (a shipper that queued the backlog fails here).
    const shipper = t.app.siemShipper as SiemShipper;
    const down = shipper.held();
    expect(down.now).toEqual({ pageEvents: 0, pendingPages: 0, socketBytes: 0 });
    const waiting = (await sealed()).filter((e) => e.seq > (shipper.confirmedSeq ?? 0));
    expect(waiting.length).toBeGreaterThan(SIEM_PAGE_SIZE);
    const largestFrame = Math.max(...waiting.map((e) => frame(syslogMessage(e, 'json')).length));
    expect(down.peak.pageEvents).toBeGreaterThan(0);
    expect(down.peak.pageEvents).toBeLessThanOrEqual(SIEM_PAGE_SIZE);
    expect(down.peak.pendingPages).toBeLessThanOrEqual(MAX_PENDING_PAGES);
    expect(down.peak.socketBytes).toBeLessThanOrEqual(SIEM_PAGE_SIZE * largestFrame);
    const lagDown = valueOf(await scrape(t.app), 'siem_lag_events', { destination: 'syslog' });
    expect(lagDown).toBeGreaterThan(0);
    const cursor = new SiemRepository(t.deps.db);
    const destination = `syslog:tcp://127.0.0.1:${rs.port}`;
    const cursorDown = await cursor.cursor(destination);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await cursor.cursor(destination)).toBe(cursorDown);
    await rs.resume();
    const events = await sealed();
    const last = events.at(-1)?.seq ?? 0;
    expect(last).toBeGreaterThanOrEqual(beforeDown + 1000);
    await waitFor(async () => (await receivedSeqs()).includes(last), 60_000);
    const seqs = await receivedSeqs();
    const counts = new Map<number, number>();
    for (const s of seqs) counts.set(s, (counts.get(s) ?? 0) + 1);
    // Every sealed event arrived.
    const missing = events.filter((e) => !counts.has(e.seq)).map((e) => e.seq);
    expect(missing).toEqual([]);
    // The only duplicates are the documented ones: events resent from the cursor after the break,
    // each at most once more, none of them from before the last confirmed point.
    for (const [seq, n] of counts) {
      expect(n, `seq ${seq} arrived ${n} times`).toBeLessThanOrEqual(2);
    }
    // Order: the stream only ever steps back where a connection broke and the shipper resent from
    // its cursor; between two such breaks every event follows the one before it (seq + 1), so
    // nothing is reordered or skipped within a connection. One break is the receiver stopping; a
    // reconnect that lands while rsyslog is still starting may add one or two more.
    const runs: number[][] = [];
    for (const s of seqs) {
      const run = runs.at(-1);
      if (run && s === (run.at(-1) as number) + 1) run.push(s);
      else runs.push([s]);
    }
    const breaks = runs.slice(1).map((r) => r[0] as number);
    expect(runs.length, `stream restarted at ${breaks.join(', ')}`).toBeLessThanOrEqual(4);
    // A break only ever steps back (a resend), never forward past an event.
    for (const [i, run] of runs.entries()) {
      if (i > 0) expect(run[0]).toBeLessThanOrEqual(runs[i - 1]?.at(-1) as number);
    }
    expect(runs.at(-1)?.at(-1)).toBe(last);
    await waitFor(async () => valueOf(await scrape(t.app), 'siem_lag_events', { destination: 'syslog' }) === 0, 10_000);
  });
});

describe('SIEM delivery when the receiver dies with events in flight', () => {
  it('resends what was written but not confirmed, so nothing is lost', async () => {
    const receiver = await crashingReceiver(40);
    const t = await buildTestApp({ SIEM_SYSLOG_URL: `tcp://127.0.0.1:${receiver.port}`, SIEM_CONFIRM_MS: '1000' });
    try {
      await t.app.ready();
      for (let i = 0; i < 120; i++)
        await t.app.audit.record({ action: 'test.in_flight', actor: 'system', outcome: 'success' });
      await t.app.audit.flush();
      const events = await t.app.audit.repo.range(0, 10_000);
      const want = events.map((e) => e.seq);
      const got = () => new Set(receiver.messages.map((m) => parse5424(m).seq));
      // Bounded: without the resend the missing events never come, and the assertion says which.
      await waitFor(async () => want.every((s) => got().has(s)), 45_000).catch(() => undefined);
      expect(want.filter((s) => !got().has(s))).toEqual([]);
    } finally {
      await t.close();
      await receiver.close();
    }
  }, 90_000);
});

describe('SIEM delivery over TLS (RFC 5425)', () => {
  it('ships to a receiver whose certificate SIEM_TLS_CA_FILE trusts, and to none it does not', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pf-siem-tls-'));
    const cert = (name: string) => {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost',
          '-keyout',
          path.join(dir, `${name}.key`),
          '-out',
          path.join(dir, `${name}.pem`),
        ],
        { stdio: 'ignore' },
      );
      return { key: readFileSync(path.join(dir, `${name}.key`)), cert: readFileSync(path.join(dir, `${name}.pem`)) };
    };
    const server = cert('server');
    cert('other'); // a CA that did not sign the receiver's certificate
    const received: string[] = [];
    const receiver = tls.createServer(server, (socket) => {
      socket.on('data', (d: Buffer) => received.push(d.toString('utf8')));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as { port: number }).port;
    const run = async (ca: string) => {
      const t = await buildTestApp({
        SIEM_SYSLOG_URL: `tls://localhost:${port}`,
        SIEM_TLS_CA_FILE: path.join(dir, ca),
      });
      await t.app.ready();
      await t.app.audit.record({ action: 'test.tls', actor: 'system', outcome: 'success' });
      await t.app.audit.flush();
      return t;
    };
    try {
      const untrusted = await run('other.pem');
      await new Promise((r) => setTimeout(r, 2_000));
      await untrusted.close();
      expect(received.join('')).toBe('');
      const trusted = await run('server.pem');
      await waitFor(async () => received.join('').includes('test.tls'), 30_000);
      await trusted.close();
      const framed = received.join('');
      const m = /^(\d+) /.exec(framed);
      expect(m).not.toBeNull();
      expect(
        parse5424(
          framed.slice(
            (m as RegExpExecArray)[0].length,
            (m as RegExpExecArray)[0].length + Number((m as RegExpExecArray)[1]),
          ),
        ).msgId,
      ).toBeTruthy();
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
