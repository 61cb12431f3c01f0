import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { constants as zlibConstants, crc32, deflateRaw, deflateRawSync } from 'node:zlib';
import { Transform, pipeline as pipelineCb, type Readable, type TransformCallback } from 'node:stream';

const deflateRawAsync = promisify(deflateRaw);

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
    if (this.headBuf.length < this.keep)
      this.headBuf = Buffer.concat([this.headBuf, chunk.subarray(0, this.keep - this.headBuf.length)]);
    this.tailBuf =
      chunk.length >= this.keep
        ? Buffer.from(chunk.subarray(chunk.length - this.keep))
        : Buffer.concat([this.tailBuf, chunk]).subarray(-this.keep);
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
 * gzip on every core, as pigz does it: the input is cut into 1 MiB blocks, each deflated on
 * libuv's thread pool with the previous block's last 32 KiB as its preset dictionary (the whole
 * window deflate could have used, so splitting costs almost nothing in size) and ended with a
 * sync flush, which leaves it on a byte boundary. The blocks are written in order between one
 * gzip header and one trailer: a single ordinary gzip member (RFC 1951/1952) that `gunzip`,
 * zlib and `gpg | gunzip` read like any other, whose CRC-32 is computed here as the blocks pass.
 * At most `parallel` blocks are in flight, so memory stays at about 2 * parallel * block size.
 */
export class ParallelGzip extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly inflight: Promise<Buffer>[] = [];
  private crc = 0;
  private total = 0;
  private window: Buffer | undefined;
  private headerSent = false;

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
    this.drainTo(0).then(() => {
      this.sendHeader();
      // The last block: empty, marked final (BFINAL), then CRC-32 and length modulo 2^32.
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(this.crc >>> 0, 0);
      trailer.writeUInt32LE(this.total % 2 ** 32, 4);
      this.push(Buffer.concat([deflateRawSync(Buffer.alloc(0), { level: this.level }), trailer]));
      cb();
    }, cb);
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    // ID1 ID2, CM=8 (deflate), no flags, no mtime, XFL=0, OS=3 (Unix): what zlib's gzip writes.
    this.push(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
  }

  private startBlock(): void {
    const input = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.crc = crc32(input, this.crc);
    this.total += input.length;
    const dictionary = this.window;
    // A copy: a view would keep the whole block alive until the next one.
    this.window = Buffer.from(input.subarray(Math.max(0, input.length - WINDOW)));
    // memLevel 9: zlib's largest hash tables, a little smaller output for 256 KiB more per block.
    // chunkSize: a compressed block usually fits one output buffer (fewer callbacks, no concat).
    const p = deflateRawAsync(input, {
      level: this.level,
      memLevel: 9,
      chunkSize: 256 * 1024,
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
      ...(dictionary ? { dictionary } : {}),
    });
    p.catch(() => undefined);
    this.inflight.push(p);
  }

  /** Pushes finished blocks, in order, until at most `max` are in flight. */
  private async drainTo(max: number): Promise<void> {
    while (this.inflight.length > max) {
      const out = await this.inflight.shift()!;
      this.sendHeader();
      this.push(out);
    }
  }
}

/** deflate's window: the most a match can reach back, so all a block can use from the one before. */
const WINDOW = 32 * 1024;
