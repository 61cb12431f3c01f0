/**
 * Images are never served as sent: they are decoded and re-encoded. Checked as an attacker (or a
 * careless photographer) would find out: the GPS position in EXIF must be gone from the served
 * file as read by an independent tool (exiftool); polyglots (JPEG+HTML, GIF+JAR) must lose their
 * second personality; a PNG decompression bomb must be refused from its header, fast and without
 * the memory its pixels would take.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import {
  fetchMedia,
  gif,
  hasExiftool,
  jarBytes,
  jpeg,
  pngBomb,
  upload,
  uploadTestApp,
} from '../../../test/support/uploads/helpers.js';

let t: TestApp;
let owner: TestUser;
let portfolioId: string;
let tmp: string;

beforeAll(async () => {
  t = await uploadTestApp();
  owner = await createUser(t.app);
  portfolioId = (await createPortfolio(t.app, owner)).id;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'pf-img-'));
});
afterAll(async () => {
  await t.close();
  await rm(tmp, { recursive: true, force: true });
});

function exiftool(args: string[]): string {
  const r = spawnSync('exiftool', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`exiftool failed: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(!hasExiftool())('metadata (read back with exiftool)', () => {
  it('a JPEG with GPS EXIF, XMP, IPTC and a comment is served with none of them, and upright', async () => {
    const file = path.join(tmp, 'gps.jpg');
    await writeFile(file, await jpeg(200, 100));
    exiftool([
      '-overwrite_original',
      '-GPSLatitude=48.8583',
      '-GPSLatitudeRef=N',
      '-GPSLongitude=2.2945',
      '-GPSLongitudeRef=E',
      '-XMP-dc:Creator=Secret Person',
      '-IPTC:City=Paris',
      '-Comment=home address inside',
      '-Orientation#=6',
      file,
    ]);
    const before = exiftool([
      '-j',
      '-n',
      '-GPSLatitude',
      '-XMP-dc:Creator',
      '-IPTC:City',
      '-Comment',
      '-Orientation',
      file,
    ]);
    expect(before).toContain('48.8583');
    expect(before).toContain('Secret Person');

    const { readFile } = await import('node:fs/promises');
    const res = await upload(
      t.app,
      owner,
      { portfolioId },
      { name: 'gps.jpg', type: 'image/jpeg', data: await readFile(file) },
    );
    expect(res.statusCode, res.body).toBe(202);
    // Orientation 6 (rotate 90) was applied before EXIF was dropped: 200x100 becomes 100x200.
    expect(res.json()).toMatchObject({ width: 100, height: 200 });
    for (const variant of ['display', 'thumbnail']) {
      const { body } = await fetchMedia(t.app, owner, res.json().id, `?variant=${variant}`);
      const served = path.join(tmp, `served-${variant}.jpg`);
      await writeFile(served, body ?? Buffer.alloc(0));
      const tags = JSON.parse(exiftool(['-j', '-a', '-G1', served]))[0] as Record<string, unknown>;
      const groups = new Set(Object.keys(tags).map((k) => k.split(':')[0]));
      for (const g of ['GPS', 'XMP-dc', 'IPTC', 'IFD0', 'ExifIFD'])
        expect(groups.has(g), `${variant} has ${g}`).toBe(false);
      const text = JSON.stringify(tags);
      expect(text).not.toContain('48.85');
      expect(text).not.toContain('Secret Person');
      expect(text).not.toContain('home address');
    }
  });
});

describe('polyglots', () => {
  it('a JPEG that is also an HTML page is re-encoded: the HTML is gone', async () => {
    const html = Buffer.from('<html><body><script>fetch("/api/auth/me")</script></body></html>');
    const polyglot = Buffer.concat([await jpeg(), html]);
    const res = await upload(t.app, owner, { portfolioId }, { name: 'poly.jpg', type: 'image/jpeg', data: polyglot });
    if (res.statusCode === 202) {
      const { body } = await fetchMedia(t.app, owner, res.json().id);
      expect(body?.includes('<script')).toBe(false);
      expect(body?.includes('<html')).toBe(false);
      expect((await sharp(body ?? Buffer.alloc(0)).metadata()).format).toBe('jpeg');
    } else {
      expect(res.statusCode).toBe(422);
    }
  });

  it('HTML hidden in a JPEG comment segment is dropped with the other metadata', async () => {
    const base = await jpeg();
    const payload = Buffer.from('<script>alert(1)</script>');
    const com = Buffer.alloc(4);
    com.writeUInt16BE(0xfffe, 0);
    com.writeUInt16BE(payload.length + 2, 2);
    const withComment = Buffer.concat([base.subarray(0, 2), com, payload, base.subarray(2)]);
    const res = await upload(
      t.app,
      owner,
      { portfolioId },
      { name: 'comment.jpg', type: 'image/jpeg', data: withComment },
    );
    expect(res.statusCode, res.body).toBe(202);
    const { body } = await fetchMedia(t.app, owner, res.json().id);
    expect(body?.includes('<script')).toBe(false);
  });

  it('a GIF with a JAR appended (GIFAR) is re-encoded or refused, never served with the JAR', async () => {
    const gifar = Buffer.concat([await gif(), jarBytes()]);
    const res = await upload(t.app, owner, { portfolioId }, { name: 'avatar.gif', type: 'image/gif', data: gifar });
    expect([202, 415, 422]).toContain(res.statusCode);
    if (res.statusCode === 202) {
      expect(res.json().status).toBe('available');
      const { body } = await fetchMedia(t.app, owner, res.json().id);
      expect(body?.subarray(0, 3).toString()).toBe('GIF');
      expect(body?.includes('META-INF')).toBe(false);
      expect(body?.includes(Buffer.from([0x50, 0x4b, 0x03, 0x04]))).toBe(false);
    }
  });
});

describe('decompression bombs and frames', () => {
  it('a PNG bomb (16000x16000 in a few hundred KB) is refused from its header, with bounded memory', async () => {
    const bomb = await pngBomb(16_000);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    // Decoding it would take 256 MB for the gray pixels alone (and more as RGB).
    const rssBefore = process.memoryUsage().rss;
    const res = await upload(t.app, owner, { portfolioId }, { name: 'bomb.png', type: 'image/png', data: bomb });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().code).toBe('IMAGE_TOO_MANY_PIXELS');
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(128 * 1024 * 1024);
  });

  it('an animation with more frames than allowed is refused', async () => {
    const t2 = await uploadTestApp({ UPLOAD_MAX_FRAMES: '3' });
    try {
      const user = await createUser(t2.app);
      const p = await createPortfolio(t2.app, user);
      const frames = await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          sharp({ create: { width: 16, height: 16, channels: 3, background: { r: i * 40, g: 0, b: 0 } } })
            .png()
            .toBuffer(),
        ),
      );
      const animated = await sharp(frames, { join: { animated: true } })
        .gif()
        .toBuffer();
      expect((await sharp(animated).metadata()).pages).toBe(5);
      const res = await upload(
        t2.app,
        user,
        { portfolioId: p.id },
        { name: 'anim.gif', type: 'image/gif', data: animated },
      );
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().code).toBe('IMAGE_TOO_MANY_FRAMES');
    } finally {
      await t2.close();
    }
  });
});
