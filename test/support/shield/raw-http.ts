/**
 * Raw-socket HTTP/1.1 clients for attacking the connection layer as a real client would:
 * slow clients (slowloris headers, trickled bodies, idle keep-alive) and clients that keep
 * sending an oversized body while the server answers 413. No HTTP library in between, so what
 * the test sees is exactly what the server did on the wire (answer, FIN, reset).
 */
import net from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses one complete HTTP/1.1 response with a Content-Length, or null while incomplete. */
export function parseAnswer(data: Buffer): RawAnswer | null {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (data.length < end + 4 + length) return null;
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: data.subarray(end + 4, end + 4 + length).toString('utf8'),
  };
}

export interface SlowClientResult {
  /** Milliseconds from connecting to the server closing the connection. */
  closedAfterMs: number;
  /** What the server wrote before closing (a 408, a keep-alive answer, nothing). */
  received: string;
  /** Bytes of the trickle written before the close. */
  trickled: number;
}

/**
 * Connects, writes `head` at once, then `trickle` one byte every `everyMs`, and waits (at most
 * `giveUpMs`) for the server to close the connection.
 */
export function slowClient(
  port: number,
  options: { head?: string; trickle?: string; everyMs?: number; giveUpMs?: number },
): Promise<SlowClientResult> {
  const { head = '', trickle = '', everyMs = 300, giveUpMs = 40_000 } = options;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let started = 0;
    let received = '';
    let trickled = 0;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the connection after ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('connect', () => {
      started = performance.now();
      if (head) socket.write(head);
      if (trickle) {
        timer = setInterval(() => {
          if (trickled < trickle.length && socket.writable) socket.write(trickle[trickled++] as string);
        }, everyMs);
      }
    });
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: performance.now() - started, received, trickled });
    });
  });
}

export type OversizedOutcome =
  | { outcome: 'answered'; answer: RawAnswer; sentBytes: number }
  | { outcome: 'reset'; error: string; sentBytes: number; received: number }
  | { outcome: 'closed'; sentBytes: number; received: number }
  | { outcome: 'timeout'; sentBytes: number; received: number };

/**
 * Sends `head` (request line and headers), then streams the body at full speed (up to
 * `sendBytes`, as raw bytes or as HTTP chunks). Two kinds of client:
 * - `readWhileSending` (curl, browsers): reads the answer as it comes, stops sending and closes
 *   once a complete answer has been read;
 * - otherwise (most HTTP libraries: Python's http.client, Java's HttpURLConnection): writes the
 *   whole `sendBytes` first and only then reads the answer.
 * With `ignoreAnswer` it keeps sending until the server ends the connection. The outcome says
 * whether the answer was read before the connection failed (EPIPE/ECONNRESET) or closed.
 */
export function sendOversized(
  port: number,
  options: {
    head: string;
    sendBytes: number;
    chunked?: boolean;
    chunkSize?: number;
    readWhileSending?: boolean;
    ignoreAnswer?: boolean;
    giveUpMs?: number;
  },
): Promise<OversizedOutcome> {
  const {
    head,
    sendBytes,
    chunked = false,
    chunkSize = 64 * 1024,
    readWhileSending = true,
    ignoreAnswer = false,
    giveUpMs = 20_000,
  } = options;
  const payload = Buffer.alloc(chunkSize, 'a');
  const frame = chunked
    ? Buffer.concat([Buffer.from(`${chunkSize.toString(16)}\r\n`), payload, Buffer.from('\r\n')])
    : payload;
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    // Paused: nothing is read from the kernel until the body is out.
    if (!readWhileSending) socket.pause();
    let data = Buffer.alloc(0);
    let received = 0;
    let sentBytes = 0;
    let done = false;
    const finish = (result: OversizedOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(giveUp);
      socket.destroy();
      resolve(result);
    };
    const giveUp = setTimeout(
      () => finish({ outcome: 'timeout', sentBytes, received: received + data.length }),
      giveUpMs,
    );
    const pump = () => {
      while (!done && socket.writable && sentBytes < sendBytes) {
        sentBytes += payload.length;
        if (!socket.write(frame)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (!done && socket.isPaused()) socket.resume();
    };
    socket.on('connect', () => {
      socket.write(head);
      pump();
    });
    socket.on('data', (chunk: Buffer) => {
      if (ignoreAnswer) return void (received += chunk.length);
      data = Buffer.concat([data, chunk]);
      const answer = parseAnswer(data);
      if (answer) finish({ outcome: 'answered', answer, sentBytes });
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish({ outcome: 'reset', error: err.code ?? err.message, sentBytes, received: received + data.length }),
    );
    socket.on('close', () => finish({ outcome: 'closed', sentBytes, received: received + data.length }));
  });
}

/** Runs `count` attempts, at most `parallel` at a time, and returns every outcome. */
export async function inParallel<T>(count: number, parallel: number, attempt: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        next++;
        results.push(await attempt());
      }
    }),
  );
  return results;
}
