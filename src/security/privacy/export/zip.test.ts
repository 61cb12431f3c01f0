/**
 * The export archive (yazl behind zipStream): what it writes is read back by a strict reader (every CRC, size and
 * data descriptor checked) and, when the machine has them, by Info-ZIP's `unzip -t`; entry names
 * that would escape the folder they are unpacked into (zip-slip) are refused.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { readZip } from '../../../../test/support/privacy/helpers.js';
import { assertEntryName, zipStream, type ZipEntry } from './zip.js';

const zipOf = (entries: ZipEntry[]) => buffer(Readable.from(zipStream(entries, new Date('2026-01-02T03:04:05Z'))));

describe('zipStream', () => {
  it('writes entries (buffers and streams, empty and multi-chunk, UTF-8 names) that read back byte for byte', async () => {
    const big = randomBytes(300_000);
    const zip = await zipOf([
      { name: 'data.json', body: Buffer.from('{"a":"ñ"}') },
      { name: 'media/ä b.bin', body: async () => Readable.from([big.subarray(0, 1000), big.subarray(1000)]) },
      { name: 'empty.txt', body: Buffer.alloc(0) },
    ]);
    const entries = readZip(zip);
    expect([...entries.keys()]).toEqual(['data.json', 'media/ä b.bin', 'empty.txt']);
    expect(entries.get('media/ä b.bin')?.equals(big)).toBe(true);
    expect(entries.get('empty.txt')?.length).toBe(0);
    if (spawnSync('unzip', ['-v']).status === 0) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'pf-zip-'));
      try {
        await writeFile(path.join(dir, 'a.zip'), zip);
        const test = spawnSync('unzip', ['-t', path.join(dir, 'a.zip')], { encoding: 'utf8' });
        expect(test.status, test.stdout + test.stderr).toBe(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });

  it('refuses entry names that escape the target folder or hide control characters', async () => {
    for (const name of ['../x', 'a/../../x', '/etc/passwd', 'a\\b', 'a//b', 'a/./b', '', 'x\u0000y', 'x\ny'])
      expect(() => assertEntryName(name), JSON.stringify(name)).toThrow(/unsafe zip entry name/);
    await expect(zipOf([{ name: '../evil', body: Buffer.from('x') }])).rejects.toThrow(/unsafe/);
  });

  it('a source stream that fails fails the archive (no truncated zip passes as whole)', async () => {
    const failing = async () =>
      Readable.from(
        (async function* () {
          yield Buffer.from('part');
          throw new Error('disk gone');
        })(),
      );
    await expect(zipOf([{ name: 'f.bin', body: failing }])).rejects.toThrow(/disk gone/);
  });
});
