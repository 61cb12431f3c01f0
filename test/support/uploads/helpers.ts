/**
 * Test support for the uploads module: an app with uploads configured for this run (the real
 * clamd from TEST_CLAMAV_URL when set), a multipart builder, and hostile files generated in code
 * (no binaries from the internet).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import zlib from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { PDFDocument, PDFName, PDFString, rgb } from 'pdf-lib';
import sharp from 'sharp';
import { buildTestApp, type TestApp } from '../../helpers/app.js';
import type { TestUser } from '../../helpers/factories.js';

/** The real clamd of this run (SERVICES.md), e.g. tcp://127.0.0.1:3310. */
export const TEST_CLAMAV_URL = process.env['TEST_CLAMAV_URL'] || undefined;
export const CLAMD_SKIP_REASON =
  'TEST_CLAMAV_URL is not set (start clamd as in /work/shared/SERVICES.md; .ci/run does)';

export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

export function hasExiftool(): boolean {
  return spawnSync('exiftool', ['-ver'], { encoding: 'utf8' }).status === 0;
}

/**
 * An app whose uploads are scanned by the real clamd when this run has one, otherwise with
 * UPLOAD_SCAN=off (tests of validation and sanitising must run either way).
 */
export async function uploadTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  return buildTestApp({
    ...(TEST_CLAMAV_URL ? { CLAMAV_URL: TEST_CLAMAV_URL } : { UPLOAD_SCAN: 'off' }),
    UPLOAD_RETRY_INTERVAL: '0',
    ...env,
  });
}

export interface FilePart {
  name: string;
  type: string;
  data: Buffer;
}

/** A multipart/form-data body: fields in the given order, then the file (or several). */
export function multipart(
  fields: Record<string, string>,
  files: FilePart[] | FilePart,
  fileField = 'file',
): { body: Buffer; headers: Record<string, string> } {
  const boundary = `----pf${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  for (const f of Array.isArray(files) ? files : [files]) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${fileField}"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`,
        'utf8',
      ),
    );
    chunks.push(f.data);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export async function upload(
  app: FastifyInstance,
  user: TestUser,
  parent: { portfolioId?: string; projectId?: string },
  file: FilePart,
  fields: Record<string, string> = { category: file.type === 'application/pdf' ? 'document' : 'gallery' },
  options: { stream?: boolean } = {},
) {
  const { body, headers } = multipart(fields, file);
  const url = parent.projectId
    ? `/api/projects/${parent.projectId}/media`
    : `/api/portfolios/${parent.portfolioId}/media`;
  return app.inject({
    method: 'POST',
    url,
    headers: { ...user.auth, ...headers },
    // A stream has no Content-Length: the body is then bounded while it is read, not from the header.
    payload: options.stream ? Readable.from([body]) : body,
  });
}

/** GET /api/media/:id/url, then the link itself (path and query against the test app). */
export async function fetchMedia(app: FastifyInstance, user: TestUser, id: string, query = '') {
  const link = await app.inject({ method: 'GET', url: `/api/media/${id}/url${query}`, headers: user.auth });
  if (link.statusCode !== 200) return { link, body: null as Buffer | null, res: null };
  const u = new URL(link.json<{ url: string }>().url);
  const res = await app.inject({ method: 'GET', url: u.pathname + u.search });
  return { link, res, body: res.rawPayload };
}

// ---- generated files ------------------------------------------------------------------------

export async function png(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 90 } } })
    .png()
    .toBuffer();
}

export async function jpeg(width = 80, height = 40): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .jpeg()
    .toBuffer();
}

export async function gif(): Promise<Buffer> {
  return sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 0, g: 255, b: 0 } } })
    .gif()
    .toBuffer();
}

/** A minimal ZIP (one stored file, META-INF/MANIFEST.MF): enough for `java -jar` to see a JAR. */
export function jarBytes(): Buffer {
  const name = Buffer.from('META-INF/MANIFEST.MF');
  const content = Buffer.from('Manifest-Version: 1.0\r\nMain-Class: Evil\r\n');
  const crc = zlib.crc32(content);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(name.length, 28);
  const localTotal = local.length + name.length + content.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(localTotal, 16);
  return Buffer.concat([local, name, content, central, name, end]);
}

/**
 * A real PNG decompression bomb: a small file whose header promises `side x side` pixels of
 * 8-bit gray, with an IDAT that inflates to all of them (deflated zeros, generated as a stream).
 */
export async function pngBomb(side: number): Promise<Buffer> {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length, 0);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td), 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  // Every row is a filter byte and `side` zero pixels; deflated as a stream, so memory stays small.
  const row = Buffer.alloc(side + 1);
  async function* rows() {
    for (let i = 0; i < side; i++) yield row;
  }
  const idat = await buffer(Readable.from(rows()).pipe(zlib.createDeflate({ level: 9 })));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A PDF with every kind of active content the sanitiser must remove. */
export async function hostilePdf(extraContent?: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([300, 300]);
  page.drawText('Curriculum vitae', { x: 20, y: 250, size: 14, color: rgb(0, 0, 0) });
  const ctx = doc.context;
  const js = ctx.obj({ Type: 'Action', S: 'JavaScript', JS: PDFString.of("app.alert('pwned')") });
  const jsRef = ctx.register(js);
  doc.catalog.set(PDFName.of('OpenAction'), jsRef);
  // Document-level JavaScript name tree.
  const names = ctx.obj({ JavaScript: ctx.obj({ Names: [PDFString.of('init'), jsRef] }) });
  doc.catalog.set(PDFName.of('Names'), names);
  // XFA form.
  doc.catalog.set(PDFName.of('AcroForm'), ctx.obj({ Fields: [], XFA: PDFString.of('<xdp/>') }));
  // Page additional actions (on open) and a launch action on a link annotation.
  page.node.set(PDFName.of('AA'), ctx.obj({ O: jsRef }));
  const launch = ctx.obj({
    Type: 'Annot',
    Subtype: 'Link',
    Rect: [0, 0, 100, 100],
    A: ctx.obj({ S: 'Launch', F: PDFString.of('calc.exe') }),
  });
  // An obfuscated name: /J#61vaScript is /JavaScript to a reader.
  const sneaky = ctx.obj({
    Type: 'Annot',
    Subtype: 'Link',
    Rect: [0, 100, 100, 200],
    A: ctx.obj({ S: PDFName.of('J#61vaScript'), JS: PDFString.of('app.alert(2)') }),
  });
  const fine = ctx.obj({
    Type: 'Annot',
    Subtype: 'Link',
    Rect: [0, 200, 100, 300],
    A: ctx.obj({ S: 'URI', URI: PDFString.of('https://example.com/') }),
  });
  const rich = ctx.obj({
    Type: 'Annot',
    Subtype: 'RichMedia',
    Rect: [100, 0, 200, 100],
    RichMediaContent: ctx.obj({}),
  });
  page.node.set(
    PDFName.of('Annots'),
    ctx.obj([ctx.register(launch), ctx.register(sneaky), ctx.register(fine), ctx.register(rich)]),
  );
  await doc.attach(Buffer.from('MZ pretend executable'), 'invoice.exe', { mimeType: 'application/octet-stream' });
  if (extraContent) {
    const stream = ctx.stream(`% ${extraContent}\nBT ET\n`);
    page.node.set(
      PDFName.of('Contents'),
      ctx.obj([page.node.get(PDFName.of('Contents')) ?? ctx.obj([]), ctx.register(stream)].flat()),
    );
  }
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

export async function simplePdf(text = 'Hello'): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]).drawText(text, { x: 10, y: 100, size: 12 });
  return Buffer.from(await doc.save());
}

/** Encrypted-looking PDF: a trailer with /Encrypt (pdf-lib cannot write encryption; readers check the trailer). */
export async function encryptedPdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]);
  const enc = doc.context.obj({
    Filter: 'Standard',
    V: 2,
    R: 3,
    Length: 128,
    P: -4,
    O: PDFString.of('x'.repeat(32)),
    U: PDFString.of('y'.repeat(32)),
  });
  doc.context.trailerInfo.Encrypt = doc.context.register(enc);
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

export async function auditActions(
  t: TestApp,
  targetId: string,
): Promise<{ action: string; metadata: Record<string, unknown> }[]> {
  return t.deps.db.query(
    `select action, metadata from audit_inbox where target_id = $1 union all select action, metadata from audit_events where target_id = $1`,
    [targetId],
  );
}

/** Every file and folder staged under DATA_DIR/upload-staging, inside the per-process folders too. */
export async function stagedEntries(dataDir: string): Promise<string[]> {
  const base = path.join(dataDir, 'upload-staging');
  const out: string[] = [];
  for (const entry of await readdir(base, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory() && /^\d+-[0-9a-f]{8}$/.test(entry.name)) {
      out.push(...(await readdir(path.join(base, entry.name))).map((n) => `${entry.name}/${n}`));
    } else out.push(entry.name);
  }
  return out;
}
