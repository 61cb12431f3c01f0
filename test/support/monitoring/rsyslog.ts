/**
 * A private rsyslogd (Debian `rsyslog`) on a loopback port: imtcp in, every message's raw text
 * (framing removed) appended to a file, one per line. Stoppable and restartable on the same port
 * and file, for delivery-while-down tests. No root config, no system socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '../../helpers/spawn.js';

export const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => existsSync(p));

export class Rsyslog {
  private proc: ChildProcess | undefined;
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get file(): string {
    return path.join(this.dir, 'events.log');
  }

  static async start(): Promise<Rsyslog> {
    if (!RSYSLOGD) throw new Error('rsyslogd is not installed (Debian package rsyslog)');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pf-rsyslog-'));
    const r = new Rsyslog(dir, await freePort());
    await writeFile(
      path.join(dir, 'rsyslog.conf'),
      [
        `global(workDirectory="${dir}")`,
        'module(load="imtcp")',
        'template(name="raw" type="string" string="%rawmsg%\\n")',
        `ruleset(name="t") { action(type="omfile" file="${r.file}" template="raw" flushOnTXEnd="on" asyncWriting="off") }`,
        `input(type="imtcp" port="${r.port}" address="127.0.0.1" ruleset="t")`,
        '',
      ].join('\n'),
    );
    await r.resume();
    return r;
  }

  /** Starts (again) on the same port and file. */
  async resume(): Promise<void> {
    const pidFile = path.join(this.dir, 'pid');
    await rm(pidFile, { force: true });
    this.proc = spawn(RSYSLOGD as string, ['-n', '-f', path.join(this.dir, 'rsyslog.conf'), '-i', pidFile], {
      stdio: 'ignore',
    });
    await waitFor(() => canConnect(this.port), 15_000);
  }

  /** SIGTERM, and waits for the process to exit (its port is then free). */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }

  async lines(): Promise<string[]> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    return text.split('\n').filter((l) => l !== '');
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** An RFC 5424 message as the shipper writes it: `<PRI>1 TIME HOST APP PROCID MSGID [SD] MSG`. */
export interface Syslog5424 {
  pri: number;
  time: string;
  host: string;
  app: string;
  procId: string;
  msgId: string;
  seq: number;
  outcome: string;
  msg: string;
}

const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) \[audit@32473 seq="(\d+)" outcome="([^"]*)"\] (.*)$/;

export function parse5424(line: string): Syslog5424 {
  const m = RFC5424.exec(line);
  if (!m) throw new Error(`not an RFC 5424 message of ours: ${line.slice(0, 200)}`);
  return {
    pri: Number(m[1]),
    time: m[2] as string,
    host: m[3] as string,
    app: m[4] as string,
    procId: m[5] as string,
    msgId: m[6] as string,
    seq: Number(m[7]),
    outcome: m[8] as string,
    msg: m[9] as string,
  };
}

/**
 * A receiver that crashes: on its first connection it drops the connection, and everything in the
 * chunk that arrived with the `crashAfter`-th message, as a receiver killed mid-stream does (what
 * it had not yet written is gone). Later connections are kept. `messages` holds what it kept.
 */
export async function crashingReceiver(
  crashAfter: number,
): Promise<{ port: number; messages: string[]; close: () => Promise<void> }> {
  const messages: string[] = [];
  let connections = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    const first = ++connections === 1;
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const kept: string[] = [];
      for (;;) {
        const space = buf.indexOf(0x20);
        if (space < 0) break;
        const len = Number(buf.subarray(0, space).toString('ascii'));
        if (buf.length < space + 1 + len) break;
        kept.push(buf.subarray(space + 1, space + 1 + len).toString('utf8'));
        buf = buf.subarray(space + 1 + len);
      }
      if (first && messages.length + kept.length >= crashAfter) {
        socket.destroy(); // the whole chunk is lost with the "process"
        return;
      }
      messages.push(...kept);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}
