import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Transform, pipeline as pipelineCb, type Readable, type TransformCallback } from 'node:stream';

const gzipAsync = promisify(gzip);

/** Counts and hashes what passes through; keeps the last bytes (the dump's end marker is there). */
export class Meter extends Transform {
  bytes = 0;
  private readonly hash: Hash;
  private tailBuf = Buffer.alloc(0);
  private headBuf = Buffer.alloc(0);

  constructor(
    private readonly onBytes?: (total: number) => void,
    private readonly keep = 512,
  ) {
    super();
    this.hash = createHash('sha256');
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    if (this.headBuf.length < this.keep) this.headBuf = Buffer.concat([this.headBuf, chunk.subarray(0, this.keep - this.headBuf.length)]);
    this.tailBuf = chunk.length >= this.keep ? Buffer.from(chunk.subarray(chunk.length - this.keep)) : Buffer.concat([this.tailBuf, chunk]).subarray(-this.keep);
    this.onBytes?.(this.bytes);
    cb(null, chunk);
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }

  get head(): string {
    return this.headBuf.toString('utf8');
  }

  get tail(): string {
    return this.tailBuf.toString('utf8');
  }
}

/** pg_dump's last words in a plain dump: without them the dump was cut short. */
export const END_MARKER = '-- PostgreSQL database dump complete';

export function hasEndMarker(tail: string): boolean {
  return tail.includes(END_MARKER);
}

/** First line of every dump we write: binds the encrypted content to its metadata. */
export function headerLine(id: string, database: string, at: string): string {
  return `-- portfolio-backup id=${id} database=${database} created=${at}\n`;
}

export function headerId(head: string): string | null {
  return /^-- portfolio-backup id=([0-9a-f-]{36}) /.exec(head)?.[1] ?? null;
}

/**
 * Pipes streams into each other and returns the last one to read from; an error anywhere
 * destroys them all, so the reader sees it (what stream.compose does on newer Node versions).
 */
export function chain(first: NodeJS.ReadableStream | Readable, ...rest: Transform[]): Readable {
  const last = rest.at(-1);
  if (!last) return first as Readable;
  pipelineCb(first, ...(rest as [Transform]), (err) => {
    if (err && !last.destroyed) last.destroy(err);
  });
  return last;
}

/**
 * Gathers small chunks into copies of `size` bytes. zlib hands out many small slices of its
 * 16 KiB output buffers; a consumer that queues them (OpenPGP's web streams do, until a packet is
 * full) keeps every whole 16 KiB buffer alive for a few bytes each: tens of MB for one backup.
 * Compact copies make memory track the data, and fewer, larger chunks are faster too.
 */
export class Rechunk extends Transform {
  private buf: Buffer;
  private used = 0;

  constructor(private readonly size = 64 * 1024) {
    super();
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(this.size - this.used, chunk.length - off);
      chunk.copy(this.buf, this.used, off, off + n);
      this.used += n;
      off += n;
      if (this.used === this.size) {
        this.push(this.buf);
        this.buf = Buffer.allocUnsafeSlow(this.size);
        this.used = 0;
      }
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.used > 0) this.push(Buffer.from(this.buf.subarray(0, this.used)));
    cb();
  }
}

/**
 * gzip on every core: the input is cut into blocks, each compressed as its own gzip member on
 * libuv's thread pool, and the members are written in order. Concatenated members are one valid
 * gzip stream (RFC 1952, section 2.2; `gunzip` and zlib read them as one file), and a 1 MiB
 * block loses almost nothing to the restarted dictionary (the window is 32 KiB). At most
 * `parallel` blocks are in flight, so memory stays at about 2 * parallel * block size.
 */
export class ParallelGzip extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly inflight: Promise<Buffer>[] = [];

  constructor(
    private readonly level: number,
    private readonly block = 1024 * 1024,
    private readonly parallel = Math.max(2, Math.min(4, availableParallelism())),
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.block) {
      cb();
      return;
    }
    this.startBlock();
    this.drainTo(this.parallel - 1).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    if (this.pendingBytes > 0) this.startBlock();
    this.drainTo(0).then(() => cb(), cb);
  }

  private startBlock(): void {
    const input = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    // memLevel 9: zlib's largest hash tables, a little smaller output for 256 KiB more per block.
    const p = gzipAsync(input, { level: this.level, memLevel: 9 });
    p.catch(() => undefined);
    this.inflight.push(p);
  }

  /** Pushes finished blocks, in order, until at most `max` are in flight. */
  private async drainTo(max: number): Promise<void> {
    while (this.inflight.length > max) {
      const out = await this.inflight.shift()!;
      this.push(out);
    }
  }
}
