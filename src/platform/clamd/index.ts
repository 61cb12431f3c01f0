/**
 * A clamd client: `zINSTREAM` over TCP or a unix socket (CLAMAV_URL).
 *
 * Written here rather than taken from npm because the failure mode is the whole point: published
 * clamd clients have reported "could not scan" (a refused connection, a timeout, a size-limit
 * reply) as clean, or thrown it as "infected". Here every scan ends in exactly one of three
 * verdicts and never throws:
 *
 * - `clean`    — clamd answered `stream: OK`;
 * - `infected` — clamd answered `stream: <signature> FOUND`;
 * - `error`    — anything else: no connection, a timeout, `INSTREAM size limit exceeded`, a
 *                truncated or unknown reply, a source stream that failed. Callers must treat
 *                `error` as "not known to be clean" (the upload pipeline quarantines it).
 *
 * Protocol (clamd(8)): the `z` prefix means commands and replies end with NUL. `zINSTREAM\0` is
 * followed by chunks, each a 4-byte big-endian length and that many bytes, and a zero-length
 * chunk to end. clamd refuses streams longer than its `StreamMaxLength` by replying
 * `INSTREAM size limit exceeded. ERROR` and closing, possibly while we are still writing; the
 * reply wins over our write error. `maxStreamBytes` lets us stop before sending that much.
 */
import net from 'node:net';
import type { Readable } from 'node:stream';

export type ScanResult =
  | { verdict: 'clean'; version: string | null }
  | { verdict: 'infected'; signature: string; version: string | null }
  | { verdict: 'error'; reason: string; version: string | null };

export type ClamdAddress = { host: string; port: number } | { path: string };

export interface ClamdOptions {
  /** `tcp://host:port` or `unix:///path/to/clamd.sock`. */
  url: string;
  /** Longest a whole command (connect, send, reply) may take. */
  timeoutMs?: number;
  /** Streams longer than this are not sent (the verdict is `error`); keep it at or below clamd's StreamMaxLength. */
  maxStreamBytes?: number;
  /** Bytes per INSTREAM chunk. */
  chunkSize?: number;
  /** How long a version answer is reused (ms): the version is asked before scans, not on every one. */
  versionCacheMs?: number;
  now?: () => number;
}

export function parseClamdUrl(raw: string): ClamdAddress {
  const u = new URL(raw);
  if (u.protocol === 'unix:') {
    if (!u.pathname || u.pathname === '/') throw new Error('a unix: clamd URL needs a socket path');
    return { path: decodeURIComponent(u.pathname) };
  }
  if (u.protocol === 'tcp:') {
    const port = u.port === '' ? 3310 : Number(u.port);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!host) throw new Error('a tcp: clamd URL needs a host');
    return { host, port };
  }
  throw new Error('must be tcp://host:port or unix:///path/to/clamd.sock');
}

const MAX_REPLY = 4096;

export class ClamdClient {
  readonly address: ClamdAddress;
  private readonly timeoutMs: number;
  private readonly maxStreamBytes: number;
  private readonly chunkSize: number;
  private readonly versionCacheMs: number;
  private readonly now: () => number;
  private cachedVersion: { value: string; at: number } | null = null;

  constructor(options: ClamdOptions) {
    this.address = parseClamdUrl(options.url);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxStreamBytes = options.maxStreamBytes ?? 25 * 1024 * 1024;
    this.chunkSize = options.chunkSize ?? 64 * 1024;
    this.versionCacheMs = options.versionCacheMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  get description(): string {
    return 'path' in this.address ? `unix:${this.address.path}` : `tcp://${this.address.host}:${this.address.port}`;
  }

  /** True when clamd answers PONG. */
  async ping(): Promise<boolean> {
    try {
      return (await this.command('zPING\0')) === 'PONG';
    } catch {
      return false;
    }
  }

  /** `ClamAV 1.4.6/27500/Tue Jan  6 08:00:00 2026` (engine/signature database/date), or just the engine with a private database. */
  async version(options: { fresh?: boolean } = {}): Promise<string> {
    const cached = this.cachedVersion;
    if (!options.fresh && cached && this.now() - cached.at < this.versionCacheMs) return cached.value;
    const value = await this.command('zVERSION\0');
    if (!/^ClamAV /.test(value)) throw new Error(`unexpected VERSION reply "${value.slice(0, 100)}"`);
    this.cachedVersion = { value, at: this.now() };
    return value;
  }

  /** Scans a stream. Never throws: failures are the `error` verdict. */
  async scan(source: Readable): Promise<ScanResult> {
    let version: string | null = null;
    try {
      version = await this.version();
    } catch (err) {
      source.destroy();
      return { verdict: 'error', reason: `clamd unreachable: ${(err as Error).message}`, version: null };
    }
    let reply: string;
    try {
      reply = await this.instream(source);
    } catch (err) {
      return { verdict: 'error', reason: (err as Error).message, version };
    }
    return interpret(reply, version);
  }

  private connect(): net.Socket {
    return 'path' in this.address
      ? net.createConnection(this.address.path)
      : net.createConnection(this.address.port, this.address.host);
  }

  /** One command, one NUL-terminated reply. */
  private command(cmd: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = this.connect();
      const reader = replyReader(socket);
      const timer = setTimeout(
        () => socket.destroy(new Error(`clamd did not answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      socket.once('connect', () => socket.write(cmd));
      reader.then(
        (r) => {
          clearTimeout(timer);
          socket.destroy();
          resolve(r);
        },
        (err: unknown) => {
          clearTimeout(timer);
          socket.destroy();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private async instream(source: Readable): Promise<string> {
    const socket = this.connect();
    const reply = replyReader(socket);
    // Whatever happens to the writing side, a reply that arrives is what counts.
    reply.catch(() => undefined);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy(new Error(`clamd scan timed out after ${this.timeoutMs} ms`));
      source.destroy();
    }, this.timeoutMs);
    try {
      await once(socket, 'connect');
      await write(socket, Buffer.from('zINSTREAM\0'));
      let sent = 0;
      for await (const data of source) {
        const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data as string);
        for (let i = 0; i < chunk.length; i += this.chunkSize) {
          const piece = chunk.subarray(i, i + this.chunkSize);
          sent += piece.length;
          if (sent > this.maxStreamBytes) {
            throw new Error(`stream longer than the scanner limit of ${this.maxStreamBytes} bytes`);
          }
          const header = Buffer.alloc(4);
          header.writeUInt32BE(piece.length, 0);
          await write(socket, Buffer.concat([header, piece]));
        }
      }
      await write(socket, Buffer.alloc(4));
    } catch (err) {
      source.destroy();
      // clamd may have answered (size limit) and closed while we wrote: prefer its reply.
      const early = await Promise.race([reply.catch(() => null), delay(200).then(() => null)]);
      clearTimeout(timer);
      socket.destroy();
      if (early) return early;
      throw timedOut ? new Error(`clamd scan timed out after ${this.timeoutMs} ms`) : err;
    }
    try {
      return await reply;
    } catch (err) {
      throw timedOut ? new Error(`clamd scan timed out after ${this.timeoutMs} ms`) : err;
    } finally {
      clearTimeout(timer);
      socket.destroy();
    }
  }
}

/** Maps clamd's reply to a verdict: only the two exact success shapes are not errors. */
export function interpret(reply: string, version: string | null): ScanResult {
  if (reply === 'stream: OK') return { verdict: 'clean', version };
  const found = /^stream: (.{1,300}) FOUND$/.exec(reply);
  if (found?.[1]) return { verdict: 'infected', signature: found[1], version };
  return { verdict: 'error', reason: `clamd: ${reply.slice(0, 200) || 'empty reply'}`, version };
}

function replyReader(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const finish = () => {
      const all = Buffer.concat(parts);
      const nul = all.indexOf(0);
      const text = (nul === -1 ? all : all.subarray(0, nul)).toString('utf8').trim();
      if (nul === -1 && text === '') reject(new Error('clamd closed the connection without a reply'));
      else resolve(text);
    };
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      size += d.length;
      if (d.includes(0) || size > MAX_REPLY) {
        socket.removeAllListeners('data');
        finish();
      }
    });
    socket.once('end', finish);
    socket.once('close', finish);
    socket.once('error', (err) => {
      // A reset after a complete reply is fine; finish() resolves with what arrived if anything.
      if (size > 0) finish();
      else reject(err);
    });
  });
}

function once(socket: net.Socket, event: 'connect'): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.once(event, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function write(socket: net.Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed || !socket.writable) {
      reject(new Error('clamd closed the connection'));
      return;
    }
    socket.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
