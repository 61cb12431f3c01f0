/**
 * The export archive as a stream: yazl (streaming, ZIP64 when needed, UTF-8 names, one entry
 * open at a time) behind one function, with our entry-name check in front of it so no archive we
 * hand out can unpack outside its folder (zip-slip).
 */
import type { Readable } from 'node:stream';
import { ZipFile } from 'yazl';

export interface ZipEntry {
  /** The path inside the archive (`/`-separated, no leading `/`, no `..`). */
  name: string;
  /** The bytes, or a function opening a stream of them (called when the entry is written). */
  body: Buffer | (() => Promise<Readable>);
}

/** A safe entry name: relative, no `..`, no backslashes or control characters. */
export function assertEntryName(name: string): void {
  if (
    name === '' ||
    name.length > 512 ||
    name.startsWith('/') ||
    /[\\\u0000-\u001f\u007f]/.test(name) ||
    name.split('/').some((part) => part === '..' || part === '.' || part === '')
  ) {
    throw new Error(`unsafe zip entry name: ${JSON.stringify(name)}`);
  }
}

/**
 * The archive's bytes, entry by entry: `Readable.from(zipStream(entries, now))`. Streams are
 * opened only when yazl reaches their entry; a source that fails fails the whole archive.
 */
export async function* zipStream(
  entries: AsyncIterable<ZipEntry> | Iterable<ZipEntry>,
  at: Date,
): AsyncGenerator<Buffer> {
  const zip = new ZipFile();
  const out = zip.outputStream as Readable;
  const options = { mtime: at, mode: 0o100644 };
  let failure: Error | undefined;
  const fail = (err: unknown) => {
    failure ??= err instanceof Error ? err : new Error(String(err));
    out.destroy(failure);
  };
  zip.on('error', fail);
  const adding = (async () => {
    for await (const entry of entries) {
      assertEntryName(entry.name);
      const body = entry.body;
      if (Buffer.isBuffer(body)) {
        zip.addBuffer(body, entry.name, options);
      } else {
        zip.addReadStreamLazy(entry.name, options, (cb) => {
          body().then(
            (stream) => {
              // yazl pipes the stream; an error on it must fail the archive, not truncate an entry.
              stream.once('error', fail);
              cb(null, stream);
            },
            (err: unknown) => {
              fail(err);
            },
          );
        });
      }
    }
    zip.end();
  })().catch(fail);
  try {
    for await (const chunk of out) yield chunk as Buffer;
  } catch (err) {
    throw failure ?? err;
  }
  await adding;
  if (failure) throw failure;
}
