/**
 * Integrity on read: stored bytes are hashed as they stream out and compared with the SHA-256
 * recorded when they were written. The last chunk is held back until the whole object has been
 * hashed, so a client never receives a complete file whose bytes changed on disk (or in the
 * bucket): on a mismatch the stream fails, the response is cut short (its Content-Length is never
 * met, so browsers and HTTP clients discard it), and `onMismatch` quarantines the file.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export class IntegrityError extends Error {
  constructor(
    readonly expected: { sha256: string; size: number },
    readonly actual: { sha256: string; size: number },
  ) {
    super('Stored bytes do not match their recorded SHA-256');
    this.name = 'IntegrityError';
  }
}

export class VerifyingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private held: Buffer | null = null;
  private size = 0;

  constructor(
    private readonly expected: { sha256: string; size: number },
    private readonly onMismatch: (err: IntegrityError) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.size > this.expected.size) {
      // Longer than recorded: no need to read further.
      callback(this.fail());
      return;
    }
    const previous = this.held;
    this.held = chunk;
    callback(null, previous ?? undefined);
  }

  override _flush(callback: TransformCallback): void {
    const sha256 = this.hash.digest('hex');
    if (sha256 !== this.expected.sha256 || this.size !== this.expected.size) {
      callback(this.fail(sha256));
      return;
    }
    callback(null, this.held ?? undefined);
  }

  private fail(sha256 = 'unknown'): IntegrityError {
    const err = new IntegrityError(this.expected, { sha256, size: this.size });
    this.onMismatch(err);
    return err;
  }
}
