/**
 * The clamd client must never report "could not scan" as clean. Each failure a network scanner
 * can have is produced for real (a refused port, a daemon that never answers, one that hangs up
 * mid-stream, a size-limit reply, garbage) and must come out as the `error` verdict. The framing
 * of zINSTREAM is checked byte for byte by a fake daemon, and against the real clamd of this run
 * (TEST_CLAMAV_URL) with the EICAR test string.
 */
import net from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ClamdClient, interpret, parseClamdUrl } from './index.js';

const TEST_CLAMAV_URL = process.env['TEST_CLAMAV_URL'] || undefined;
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A fake clamd: `onStream` sees the whole INSTREAM payload (after the command) and answers. */
async function fakeClamd(handler: (socket: net.Socket, received: () => Buffer) => void): Promise<string> {
  const server = net.createServer((socket) => {
    const parts: Buffer[] = [];
    socket.on('data', (d) => {
      parts.push(d);
      const all = Buffer.concat(parts);
      if (all.toString('latin1').startsWith('zVERSION\0')) {
        socket.end('ClamAV 9.9.9/12345/Thu Jan  1 00:00:00 2026\0');
        return;
      }
      handler(socket, () => Buffer.concat(parts));
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

/** Parses zINSTREAM framing; null until the terminating zero-length chunk has arrived. */
function unframe(all: Buffer): Buffer | null {
  const cmd = 'zINSTREAM\0';
  if (all.subarray(0, cmd.length).toString('latin1') !== cmd) return null;
  let i = cmd.length;
  const out: Buffer[] = [];
  while (i + 4 <= all.length) {
    const len = all.readUInt32BE(i);
    i += 4;
    if (len === 0) return Buffer.concat(out);
    if (i + len > all.length) return null;
    out.push(all.subarray(i, i + len));
    i += len;
  }
  return null;
}

describe('parsing', () => {
  it('tcp and unix URLs', () => {
    expect(parseClamdUrl('tcp://127.0.0.1:3310')).toEqual({ host: '127.0.0.1', port: 3310 });
    expect(parseClamdUrl('tcp://[::1]:3311')).toEqual({ host: '::1', port: 3311 });
    expect(parseClamdUrl('unix:///run/clamav/clamd.ctl')).toEqual({ path: '/run/clamav/clamd.ctl' });
    expect(() => parseClamdUrl('http://x')).toThrow();
  });

  it('only the two exact success replies are not errors', () => {
    expect(interpret('stream: OK', 'v').verdict).toBe('clean');
    expect(interpret('stream: Eicar-Test-Signature FOUND', 'v')).toMatchObject({
      verdict: 'infected',
      signature: 'Eicar-Test-Signature',
    });
    for (const reply of [
      '',
      'stream: OK trailing',
      'INSTREAM size limit exceeded. ERROR',
      "stream: Can't allocate memory ERROR",
      'OK',
      'UNKNOWN COMMAND',
    ]) {
      expect(interpret(reply, 'v').verdict, reply).toBe('error');
    }
  });
});

describe('against a fake daemon', () => {
  it('frames the stream as length-prefixed chunks ending with a zero chunk', async () => {
    let seen: Buffer | null = null;
    const url = await fakeClamd((socket, received) => {
      const body = unframe(received());
      if (body) {
        seen = body;
        socket.end('stream: OK\0');
      }
    });
    const data = Buffer.alloc(200_000, 7);
    data.write('hello', 0);
    const client = new ClamdClient({ url, chunkSize: 65_536 });
    const result = await client.scan(Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
    expect(result).toEqual({ verdict: 'clean', version: 'ClamAV 9.9.9/12345/Thu Jan  1 00:00:00 2026' });
    expect(seen).not.toBeNull();
    expect(Buffer.compare(seen ?? Buffer.alloc(0), data)).toBe(0);
  });

  it('a refused connection is an error, not clean', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const result = await new ClamdClient({ url: `tcp://127.0.0.1:${port}`, timeoutMs: 2000 }).scan(
      Readable.from([Buffer.from('x')]),
    );
    expect(result.verdict).toBe('error');
  });

  it('a daemon that never answers is a timeout error', async () => {
    const url = await fakeClamd(() => undefined);
    const started = Date.now();
    const result = await new ClamdClient({ url, timeoutMs: 300 }).scan(Readable.from([Buffer.from('x')]));
    expect(result.verdict).toBe('error');
    expect(result.verdict === 'error' && result.reason).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a hang-up mid-stream without a reply is an error', async () => {
    const url = await fakeClamd((socket) => socket.destroy());
    const result = await new ClamdClient({ url }).scan(Readable.from([Buffer.alloc(1_000_000, 1)]));
    expect(result.verdict).toBe('error');
  });

  it('the size-limit reply (sent while we are still writing) is an error', async () => {
    const url = await fakeClamd((socket, received) => {
      if (received().length > 100_000) socket.end('INSTREAM size limit exceeded. ERROR\0');
    });
    async function* big() {
      for (let i = 0; i < 200; i++) yield Buffer.alloc(65_536, 2);
    }
    const result = await new ClamdClient({ url }).scan(Readable.from(big()));
    expect(result).toMatchObject({ verdict: 'error' });
    expect(result.verdict === 'error' && result.reason).toMatch(/size limit|closed|EPIPE|ECONNRESET/);
  });

  it('a stream longer than maxStreamBytes is not sent whole and is an error', async () => {
    let got = 0;
    const url = await fakeClamd((_socket, received) => {
      got = received().length;
    });
    const result = await new ClamdClient({ url, maxStreamBytes: 100_000 }).scan(
      Readable.from([Buffer.alloc(300_000, 3)]),
    );
    expect(result.verdict).toBe('error');
    expect(got).toBeLessThan(200_000);
  });

  it('a source stream that fails is an error', async () => {
    const url = await fakeClamd(() => undefined);
    async function* failing() {
      yield Buffer.from('abc');
      throw new Error('disk gone');
    }
    const result = await new ClamdClient({ url, timeoutMs: 2000 }).scan(Readable.from(failing()));
    expect(result.verdict).toBe('error');
  });
});

describe.skipIf(!TEST_CLAMAV_URL)('against the real clamd (TEST_CLAMAV_URL)', () => {
  const client = () => new ClamdClient({ url: TEST_CLAMAV_URL ?? '' });

  it('answers PING and VERSION', async () => {
    expect(await client().ping()).toBe(true);
    expect(await client().version()).toMatch(/^ClamAV \d/);
  });

  it('EICAR is infected, a clean file is clean, EICAR split across chunks is still found', async () => {
    const infected = await client().scan(Readable.from([Buffer.from(EICAR)]));
    expect(infected).toMatchObject({ verdict: 'infected' });
    expect(infected.verdict === 'infected' && infected.signature).toMatch(/Eicar/i);
    expect((await client().scan(Readable.from([Buffer.from('just some text')]))).verdict).toBe('clean');
    const split = new ClamdClient({ url: TEST_CLAMAV_URL ?? '', chunkSize: 7 });
    expect((await split.scan(Readable.from([Buffer.from(`prefix ${EICAR} suffix`)]))).verdict).toBe('infected');
  });
});
