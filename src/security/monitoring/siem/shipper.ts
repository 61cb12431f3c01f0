/**
 * Ships every sealed audit event, in seq order, to one syslog receiver over TCP or TLS, at least
 * once, with bounded memory.
 *
 * - Only sealed events (`audit_events`) are shipped, read in pages from a cursor in the database.
 *   One node ships at a time (a KV lease per destination); a second one would only duplicate.
 * - TCP says nothing of what the receiver took. An event counts as delivered (the cursor passes it)
 *   once it was written to a connection that then stayed healthy for SIEM_CONFIRM_MS. When the
 *   connection breaks, the shipper reconnects with backoff and resends from the cursor: the events
 *   written in that last window may arrive twice (receivers deduplicate by seq), none is lost.
 * - Memory is one page of events (SIEM_PAGE_SIZE) plus one (seq, time) pair per page written in
 *   the confirmation window (at most MAX_PENDING_PAGES); while the receiver is down nothing is
 *   read at all, and a slow receiver holds the shipper on the socket's backpressure ('drain').
 *   `held()` reports it (siem.test.ts asserts the bounds while 1,000 events wait).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { KvLease } from '../../../platform/kv/lease.js';
import type { ChainedEvent } from '../../audit/canonical.js';
import { frame, syslogMessage, type SiemFormat } from './formats.js';
import type { SiemRepository } from './repository.js';

export interface ShipperOptions {
  /** tcp://host:port or tls://host:port. */
  url: string;
  format: SiemFormat;
  caFile?: string | undefined;
  confirmMs: number;
  repo: SiemRepository;
  /** Sealed events after a seq, oldest first. */
  range: (afterSeq: number, limit: number) => Promise<ChainedEvent[]>;
  lease: KvLease;
  log: { warn: (obj: object, msg: string) => void; info?: (obj: object, msg: string) => void };
  pageSize?: number;
  pollMs?: number;
  now?: () => number;
}

const MAX_BACKOFF_MS = 30_000;

/** Events read per page (SIEM_PAGE_SIZE in tests): the most the shipper holds at once. */
export const SIEM_PAGE_SIZE = 200;
/**
 * Pages written and not yet confirmed, at most: past it the shipper waits for confirmations
 * before it writes more, so the (seq, time) list cannot grow with a fast stream either.
 */
export const MAX_PENDING_PAGES = 64;

/** What the shipper holds in memory now, and the most it ever held (`held()`). */
export interface Held {
  /** Events of the page being written (0 between pages). */
  pageEvents: number;
  /** Pages written on this connection and not confirmed yet. */
  pendingPages: number;
  /** Bytes queued on the socket, not yet handed to the kernel. */
  socketBytes: number;
}

export class SiemShipper {
  readonly destination: string;
  private socket: net.Socket | undefined;
  private broken = false;
  /** Last seq written on the current connection; last seq confirmed (persisted). */
  private sent = 0;
  private confirmed = 0;
  private pending: { seq: number; at: number }[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private backoffMs = 500;
  /** Frames written since start, and reconnections (for tests and metrics). */
  stats = { written: 0, connections: 0 };
  private page = 0;
  /** The high-water marks of `held()` since start. */
  private readonly peak: Held = { pageEvents: 0, pendingPages: 0, socketBytes: 0 };

  constructor(private readonly o: ShipperOptions) {
    const u = new URL(o.url);
    this.destination = `syslog:${u.protocol}//${u.host}`;
  }

  get confirmedSeq(): number {
    return this.confirmed;
  }

  /**
   * Read-only: what the shipper holds now and the most it ever held. Bounded whatever the
   * backlog: one page (SIEM_PAGE_SIZE events), MAX_PENDING_PAGES (seq, time) pairs, and the
   * socket's queue of one page (the next page waits for 'drain'). While the receiver is down all
   * three are 0: nothing is read.
   */
  held(): { now: Held; peak: Held } {
    return {
      now: { pageEvents: this.page, pendingPages: this.pending.length, socketBytes: this.socket?.writableLength ?? 0 },
      peak: { ...this.peak },
    };
  }

  private notePeak(): void {
    const now = this.held().now;
    this.peak.pageEvents = Math.max(this.peak.pageEvents, now.pageEvents);
    this.peak.pendingPages = Math.max(this.peak.pendingPages, now.pendingPages);
    this.peak.socketBytes = Math.max(this.peak.socketBytes, now.socketBytes);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.socket?.destroy();
    this.socket = undefined;
    await this.o.lease.release().catch(() => false);
  }

  /** Looks for new events now rather than at the next poll (called when the sealer seals). */
  nudge(): void {
    this.wake?.();
  }

  private now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    const pollMs = this.o.pollMs ?? 1_000;
    while (this.running) {
      try {
        if (!(await this.o.lease.acquire())) {
          this.drop();
          await this.sleep(pollMs);
          continue;
        }
        if (!this.socket || this.broken) {
          this.drop();
          await this.connect();
          this.confirmed = (await this.o.repo.cursor(this.destination)) ?? 0;
          this.sent = this.confirmed;
          this.backoffMs = 500;
        }
        await this.confirm();
        if (this.pending.length >= MAX_PENDING_PAGES) {
          // Enough on the wire unconfirmed: let the confirmation window catch up first.
          await this.sleep(Math.min(pollMs, this.o.confirmMs));
          continue;
        }
        const page = await this.o.range(this.sent, Math.min(this.o.pageSize ?? SIEM_PAGE_SIZE, SIEM_PAGE_SIZE));
        if (page.length === 0) {
          await this.sleep(this.pending.length > 0 ? Math.min(pollMs, this.o.confirmMs) : pollMs);
          continue;
        }
        this.page = page.length;
        try {
          await this.write(Buffer.concat(page.map((e) => frame(syslogMessage(e, this.o.format)))));
        } finally {
          this.page = 0;
        }
        this.stats.written += page.length;
        this.sent = (page[page.length - 1] as ChainedEvent).seq;
        this.pending.push({ seq: this.sent, at: this.now() });
        this.notePeak();
      } catch (err) {
        if (!this.running) break;
        this.drop();
        this.o.log.warn(
          { err, destination: this.destination },
          'siem: delivery interrupted, resending from the cursor',
        );
        await this.sleep(this.backoffMs);
        this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
      }
    }
  }

  /** Moves the cursor past what stayed on a healthy connection for confirmMs. */
  private async confirm(): Promise<void> {
    const now = this.now();
    let seq = this.confirmed;
    while (this.pending.length > 0 && now - (this.pending[0] as { at: number }).at >= this.o.confirmMs) {
      seq = (this.pending.shift() as { seq: number }).seq;
    }
    if (seq > this.confirmed && !this.broken) {
      await this.o.repo.save(this.destination, seq, new Date());
      this.confirmed = seq;
    }
  }

  /** Forgets the connection and everything unconfirmed on it: the next pass resends from the cursor. */
  private drop(): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.broken = false;
    this.pending = [];
    this.sent = this.confirmed;
  }

  private connect(): Promise<void> {
    const u = new URL(this.o.url);
    const port = Number(u.port);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      const onConnect = () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.setKeepAlive(true, 10_000);
        socket.setNoDelay(true);
        // Any later error or close breaks the connection: unconfirmed events are resent.
        const broke = () => {
          this.broken = true;
          this.wake?.();
        };
        socket.on('error', broke);
        socket.on('close', broke);
        // A receiver never talks back on syslog; reading keeps 'end'/'close' observable.
        socket.resume();
        this.socket = socket;
        this.stats.connections += 1;
        resolve();
      };
      const socket =
        u.protocol === 'tls:'
          ? tls.connect(
              {
                host,
                port,
                servername: net.isIP(host) ? undefined : host,
                ...(this.o.caFile ? { ca: readFileSync(this.o.caFile) } : {}),
              },
              onConnect,
            )
          : net.connect({ host, port }, onConnect);
      const timer = setTimeout(() => onError(new Error(`connecting to ${this.destination} timed out`)), 5_000);
      socket.once('error', onError);
    });
  }

  private write(chunk: Buffer): Promise<void> {
    const socket = this.socket;
    if (!socket || this.broken) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      const flushed = socket.write(chunk, (err) => {
        if (err) reject(err);
        else if (flushed) resolve();
      });
      this.notePeak();
      if (!flushed) {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', closed);
          resolve();
        };
        const closed = () => {
          socket.off('drain', done);
          reject(new Error('connection closed while writing'));
        };
        socket.once('drain', done);
        socket.once('close', closed);
      }
    });
  }
}
