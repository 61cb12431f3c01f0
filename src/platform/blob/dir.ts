import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobNotFoundError, checkKey, type BlobInfo, type BlobStore, type PutOptions } from './index.js';

/** Temporary names start with this; list() skips them, so a write in progress is never an object. */
const TEMP_PREFIX = '.tmp-';

/**
 * A folder as a blob store. put() writes a temporary file, fsyncs it, renames it into place and
 * fsyncs the folder, so after a crash an object is either complete or absent.
 */
export class DirBlobStore implements BlobStore {
  readonly kind = 'dir' as const;
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  get location(): string {
    return this.root;
  }

  describe(key: string): string {
    return this.pathOf(key);
  }

  pathOf(key: string): string {
    return path.join(this.root, ...checkKey(key).split('/'));
  }

  async put(key: string, body: Readable | Buffer, _options: PutOptions = {}): Promise<BlobInfo> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = path.join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${path.basename(file)}`);
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(temp, { mode: 0o600, flags: 'wx' }));
      await fsyncPath(temp);
      await rename(temp, file);
      await fsyncPath(dir);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    const s = await stat(file);
    return { key, size: s.size, lastModified: s.mtime };
  }

  async get(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    // Open first, so a missing file is a BlobNotFoundError here rather than a stream error later.
    const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new BlobNotFoundError(file);
      throw err;
    });
    return handle.createReadStream();
  }

  async head(key: string): Promise<BlobInfo | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { key, size: s.size, lastModified: s.mtime } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async *list(prefix = ''): AsyncIterable<BlobInfo> {
    const found: BlobInfo[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        if (e.name.startsWith(TEMP_PREFIX)) continue;
        const key = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) {
          if (prefix.startsWith(`${key}/`) || key.startsWith(prefix) || prefix === '') await walk(path.join(dir, e.name), key);
        } else if (e.isFile() && key.startsWith(prefix)) {
          const s = await stat(path.join(dir, e.name)).catch(() => null);
          if (s) found.push({ key, size: s.size, lastModified: s.mtime });
        }
      }
    };
    await walk(this.root, '');
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    await rm(file, { force: true });
    // Folders the key made (`objects/<id>/`) go when they become empty; rmdir refuses non-empty ones.
    for (let dir = path.dirname(file); dir !== this.root && dir.startsWith(this.root + path.sep); dir = path.dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
    }
  }

  async close(): Promise<void> {}
}

/** fsync a file or a folder (the folder's entry for a renamed file is what makes it durable). */
export async function fsyncPath(p: string): Promise<void> {
  const handle = await open(p, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
