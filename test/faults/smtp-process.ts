/**
 * A loopback SMTP server as a process of its own, so a fault scenario can kill -9 it: the
 * `smtp-server` package on SMTP_PORT, accepting every mail. For each mail it accepts it prints
 * `RECEIVED <Message-ID>` on stdout BEFORE it answers 250 (a real server stores the mail before it
 * acknowledges it): a kill between the two is the documented duplicate (the client sends it again),
 * never a mail the client believes delivered that the test did not see. Pipes to the parent are
 * written synchronously on Linux, so a line printed is a line the test reads, even after a kill -9.
 */
import { SMTPServer } from 'smtp-server';

const port = Number(process.env['SMTP_PORT']);
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const head =
        Buffer.concat(chunks)
          .toString('utf8')
          .split(/\r?\n\r?\n/)[0] ?? '';
      const id = /^Message-ID:\s*(<[^>]+>)/im.exec(head)?.[1] ?? 'none';
      process.stdout.write(`RECEIVED ${id}\n`);
      callback();
    });
  },
});
server.listen(port, '127.0.0.1', () => process.stdout.write('LISTENING\n'));
