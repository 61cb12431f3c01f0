/**
 * ParallelGzip cuts the dump into blocks deflated in parallel but must write ONE ordinary gzip
 * member: the bytes back exactly (zlib and GNU gzip agree), a correct CRC-32 and length in the
 * trailer, and each block deflated against the previous block's last 32 KiB (otherwise splitting
 * would cost size; bench/backup.ts holds the output within 2 % of `gzip -9`).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ParallelGzip } from './streams.js';

const BLOCK = 64 * 1024;

async function gz(input: Buffer, options: { block?: number; parallel?: number; chunk?: number } = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  const chunk = options.chunk ?? 7919;
  const chunks: Buffer[] = [];
  for (let o = 0; o < input.length; o += chunk) chunks.push(input.subarray(o, o + chunk));
  await pipeline(
    Readable.from(chunks),
    new ParallelGzip(9, options.block ?? BLOCK, options.parallel ?? 3),
    new Writable({
      write(c: Buffer, _e, cb) {
        parts.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

/** Text that compresses like a dump: repeated words, numbers, some noise. */
function dumpLike(bytes: number): Buffer {
  const lines: string[] = [];
  let n = 0;
  for (let size = 0; size < bytes; n++) {
    const line = `${n}\tuser${n % 977}@example.test\tProject ${(n * 7919) % 10007} lorem ipsum dolor ${n % 13}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

describe('ParallelGzip', () => {
  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['just under a block', BLOCK - 1],
    ['exactly a block', BLOCK],
    ['a block and a byte', BLOCK + 1],
    ['many blocks', 20 * BLOCK + 12345],
  ])('gives the bytes back exactly: %s', async (_name, size) => {
    const input = dumpLike(size);
    const out = await gz(input);
    expect(gunzipSync(out).equals(input)).toBe(true);
    // The trailer: CRC-32 and length of everything (what one single-threaded gzip writes).
    const reference = gzipSync(input);
    expect(out.subarray(-8).equals(reference.subarray(-8))).toBe(true);
  });

  it('writes one member that GNU gzip reads and tests', async () => {
    const input = Buffer.concat([dumpLike(5 * BLOCK), randomBytes(BLOCK + 17), dumpLike(3 * BLOCK)]);
    const out = await gz(input, { chunk: 65536 });
    const test = spawnSync('gzip', ['-t'], { input: out });
    expect(test.status, test.stderr.toString()).toBe(0);
    const back = spawnSync('gzip', ['-dc'], { input: out, maxBuffer: 64 * 1024 * 1024 });
    expect(back.stdout.equals(input)).toBe(true);
    // One member: gzip -l reports the whole uncompressed size (it reads the last trailer only,
    // so with several members it would report just the last one's).
    const list = spawnSync('gzip', ['-l'], { input: out }).stdout.toString();
    expect(list).toContain(String(input.length));
  });

  it('deflates each block against the end of the previous one', async () => {
    // 16 KiB of noise repeated: incompressible within itself, but every block after the first
    // is a copy of what the previous block ended with, so with the 32 KiB window carried over
    // it shrinks to almost nothing; without it each block would cost at least 16 KiB.
    const noise = randomBytes(16 * 1024);
    const input = Buffer.concat(Array.from({ length: 16 }, () => noise)); // 256 KiB = 4 blocks
    const out = await gz(input, { parallel: 4 });
    expect(gunzipSync(out).equals(input)).toBe(true);
    expect(out.length).toBeLessThan(16 * 1024 + 4096);
  });

  it('stays within a fraction of a percent of one single-threaded gzip stream', async () => {
    const input = dumpLike(40 * BLOCK);
    const single = gzipSync(input, { level: 9, memLevel: 9 }).length;
    const out = await gz(input);
    expect(out.length / single).toBeLessThan(1.005);
  });

  it('passes an error in the input on to the reader', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('pg_dump died'));
      },
    });
    await expect(
      pipeline(failing, new ParallelGzip(9, BLOCK), new Writable({ write: (_c, _e, cb) => cb() })),
    ).rejects.toThrow('pg_dump died');
  });
});
