/**
 * A fake clamd as a process of its own, so a fault scenario can kill -9 it: the clamd protocol
 * (clamd(8), `z` commands ending in NUL) on CLAMD_PORT, enough for the server's client
 * (src/platform/clamd/): zPING, zVERSION and zINSTREAM (length-prefixed chunks, a zero length
 * ends the stream), every stream answered `stream: OK`. Not the real clamd (which loads its
 * signatures for tens of seconds and about a gigabyte of memory on every start): what the scenario
 * tests is what the server does while the scanner is gone and after it returns.
 */
import net from 'node:net';

const VERSION = 'ClamAV 1.4.6/27500/Sat Dec  5 08:00:00 2026';
const port = Number(process.env['CLAMD_PORT']);

const server = net.createServer((socket) => {
  let buf = Buffer.alloc(0);
  let command: string | undefined;
  socket.on('error', () => undefined);
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (command === undefined) {
      const nul = buf.indexOf(0);
      if (nul < 0) return;
      command = buf.subarray(0, nul).toString();
      buf = buf.subarray(nul + 1);
      if (command === 'zPING') return void socket.end('PONG\0');
      if (command === 'zVERSION') return void socket.end(`${VERSION}\0`);
      if (command !== 'zINSTREAM') return void socket.end('UNKNOWN COMMAND\0');
    }
    // INSTREAM: <u32 length><bytes>... until a zero length.
    while (buf.length >= 4) {
      const n = buf.readUInt32BE(0);
      if (n === 0) {
        process.stdout.write('SCANNED\n');
        return void socket.end('stream: OK\0');
      }
      if (buf.length < 4 + n) return;
      buf = buf.subarray(4 + n);
    }
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('LISTENING\n'));
