/**
 * One contract for every BlobStore: the folder and S3 (against s3rver on loopback) must behave
 * the same, so a module written against one works on the other. Big objects stream through a
 * multipart upload; a put that fails leaves no object.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError, DirBlobStore, checkKey, type BlobStore } from './index.js';
import { S3BlobStore } from './s3.js';
import { startLocalS3, type LocalS3 } from '../../../test/support/blob/s3rver.js';

let s3: LocalS3;
let dir: string;
const sseSeen: string[] = [];

beforeAll(async () => {
  s3 = await startLocalS3();
  dir = await mkdtemp(path.join(os.tmpdir(), 'pf-blob-'));
});
afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const stores: [string, () => BlobStore][] = [
  ['dir', () => new DirBlobStore(dir)],
  [
    's3',
    () => {
      const store = new S3BlobStore({
        bucket: s3.bucket,
        region: 'us-east-1',
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentials: s3.credentials,
        prefix: 'contract/',
        serverSideEncryption: 'AES256',
        partSize: 5 * 1024 * 1024,
      });
      // Record the SSE header of every request: the store must ask for encryption at rest.
      store.client.middlewareStack.add(
        (next) => async (args) => {
          const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
          const sse = headers['x-amz-server-side-encryption'];
          if (sse) sseSeen.push(sse);
          return next(args);
        },
        { step: 'finalizeRequest', name: 'recordSse' },
      );
      return store;
    },
  ],
];

describe.each(stores)('BlobStore contract: %s', (kind, make) => {
  let store: BlobStore;
  beforeAll(() => {
    store = make();
  });
  afterAll(async () => {
    await store.close();
  });

  it('puts, heads, gets, lists and deletes', async () => {
    const info = await store.put('a/one.txt', Buffer.from('hello'), { contentType: 'text/plain' });
    expect(info).toMatchObject({ key: 'a/one.txt', size: 5 });
    await store.put('a/two.txt', Readable.from([Buffer.from('wor'), Buffer.from('ld')]));
    await store.put('b.txt', Buffer.from('x'));
    expect((await store.head('a/one.txt'))?.size).toBe(5);
    expect((await buffer(await store.get('a/two.txt'))).toString()).toBe('world');
    const listed = [];
    for await (const o of store.list('a/')) listed.push(o.key);
    expect(listed).toEqual(['a/one.txt', 'a/two.txt']);
    await store.delete('a/one.txt');
    expect(await store.head('a/one.txt')).toBeNull();
    await store.delete('a/one.txt'); // deleting twice is fine
  });

  it('a missing object is a BlobNotFoundError naming it', async () => {
    await expect(store.get('nope.bin')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.get('nope.bin')).rejects.toThrow(
      kind === 's3' ? /s3:\/\/test-bucket\/contract\/nope\.bin/ : /nope\.bin/,
    );
  });

  it('streams an object larger than a multipart part', async () => {
    const part = Buffer.alloc(1024 * 1024, 7);
    async function* body() {
      for (let i = 0; i < 11; i++) yield part;
    }
    const info = await store.put('big.bin', Readable.from(body()));
    expect(info.size).toBe(11 * 1024 * 1024);
    const back = await buffer(await store.get('big.bin'));
    expect(back.length).toBe(11 * 1024 * 1024);
  }, 60_000);

  it('a put whose stream fails leaves no object', async () => {
    async function* failing() {
      yield Buffer.alloc(1024, 1);
      throw new Error('source died');
    }
    await expect(store.put('broken.bin', Readable.from(failing()))).rejects.toThrow(/source died/);
    expect(await store.head('broken.bin')).toBeNull();
    if (kind === 'dir') expect((await readdir(dir)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('refuses keys that would escape', () => {
    for (const bad of ['../x', '/abs', 'a//b', 'a/../b', '', 'a\\b'])
      expect(() => checkKey(bad)).toThrow(/Invalid blob key/);
  });
});

describe('S3 server-side encryption', () => {
  it('every upload asked for AES256', () => {
    expect(sseSeen.length).toBeGreaterThan(0);
    expect(new Set(sseSeen)).toEqual(new Set(['AES256']));
  });
});
