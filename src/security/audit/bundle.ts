/**
 * Export bundles: a JSONL file that verifies with no database.
 *
 *   line 1      {"type":"audit-bundle","v":1,"from":F,"to":T,"anchor":{"seq":F-1,"hash":...},"exportedAt":...,"kid":...,"publicKey":...}
 *   next lines  {"type":"checkpoint", ...}   every checkpoint in [F-1, T]; always one at T
 *   then        {"type":"event", ...}        seq F..T in order
 *
 * The checkpoint at T is signed over the hash of row T, and every row's hash covers its
 * predecessor's, so that one signature vouches for the whole range: editing, removing or
 * reordering any line, or cutting the file short, is detected. The public key in the header is
 * informational only: the verifier trusts only the keys it was configured with.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { isHash, type ChainedEvent } from './canonical.js';
import { parseCheckpoint } from './checkpoint-files.js';
import { auditErrors } from './errors.js';
import type { Checkpoint, TrustedKeys } from './signing.js';
import { verifyChain, type VerifyResult } from './verify.js';

export interface BundleHeader {
  type: 'audit-bundle';
  v: 1;
  from: number;
  to: number;
  anchor: { seq: number; hash: string };
  exportedAt: string;
  kid: string | null;
  publicKey: string | null;
}

/** Writes a bundle atomically (temp file, then rename) and returns its SHA-256 and size. */
export async function writeBundle(
  file: string,
  header: BundleHeader,
  checkpoints: readonly Checkpoint[],
  rows: AsyncIterable<ChainedEvent>,
): Promise<{ sha256: string; events: number; bytes: number }> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const out = createWriteStream(tmp, { mode: 0o600 });
  const hash = createHash('sha256');
  let bytes = 0;
  const write = async (obj: unknown) => {
    const line = `${JSON.stringify(obj)}\n`;
    hash.update(line);
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', resolve));
  };
  let events = 0;
  try {
    await write(header);
    for (const c of checkpoints) await write({ type: 'checkpoint', ...c });
    for await (const row of rows) {
      await write({ type: 'event', ...row });
      events++;
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  await rename(tmp, file);
  return { sha256: hash.digest('hex'), events, bytes };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function parseEvent(o: Record<string, unknown>, line: number): ChainedEvent {
  const str = (k: string): string | null => {
    const v = o[k];
    return typeof v === 'string' ? v : null;
  };
  const seq = o['seq'];
  const meta = o['metadata'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || typeof o['v'] !== 'number' || typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw auditErrors.badBundle(`line ${line} is not an audit event`);
  }
  return {
    seq,
    v: o['v'],
    time: str('time') ?? '',
    action: str('action') ?? '',
    actor: str('actor') ?? '',
    outcome: (str('outcome') ?? 'failure') as ChainedEvent['outcome'],
    ip: str('ip'),
    userAgent: str('userAgent'),
    targetType: str('targetType'),
    targetId: str('targetId'),
    requestId: str('requestId'),
    metadata: meta as ChainedEvent['metadata'],
    prevHash: str('prevHash') ?? '',
    hash: str('hash') ?? '',
  };
}

/** Verifies a bundle file with the given trusted keys; throws AUDIT_BUNDLE_INVALID when it is not a bundle at all. */
export async function verifyBundle(file: string, keys: TrustedKeys): Promise<VerifyResult & { header: BundleHeader }> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  const it = lines[Symbol.asyncIterator]();
  let lineNo = 0;
  const next = async (): Promise<Record<string, unknown> | undefined> => {
    for (;;) {
      const r = await it.next();
      if (r.done) return undefined;
      lineNo++;
      if (r.value.trim() === '') continue;
      try {
        const v: unknown = JSON.parse(r.value);
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
      } catch {
        // fall through
      }
      throw auditErrors.badBundle(`line ${lineNo} is not JSON`);
    }
  };
  try {
    const first = await next();
    const anchor = first?.['anchor'] as { seq?: unknown; hash?: unknown } | undefined;
    if (
      !first ||
      first['type'] !== 'audit-bundle' ||
      first['v'] !== 1 ||
      typeof first['from'] !== 'number' ||
      typeof first['to'] !== 'number' ||
      typeof anchor?.seq !== 'number' ||
      !isHash(anchor.hash)
    ) {
      throw auditErrors.badBundle('the file does not start with an audit bundle header');
    }
    const header = first as unknown as BundleHeader;
    const checkpoints: Checkpoint[] = [];
    const events: ChainedEvent[] = [];
    for (let o = await next(); o; o = await next()) {
      if (o['type'] === 'checkpoint') {
        const c = parseCheckpoint({ ...o, type: undefined });
        // An unreadable checkpoint line is reported as a bad signature at its seq, not skipped.
        checkpoints.push(c ?? { v: 1, seq: typeof o['seq'] === 'number' ? o['seq'] : header.to, hash: '', time: '', kid: 'unreadable', sig: '' });
      } else if (o['type'] === 'event') {
        events.push(parseEvent(o, lineNo));
      } else {
        throw auditErrors.badBundle(`line ${lineNo} has an unknown type`);
      }
    }
    // Events may be listed in any order in a damaged file; the verifier walks them by seq.
    const bySeq = [...events].sort((a, b) => a.seq - b.seq);
    const successorOf = new Map<string, number>();
    for (const e of events) if (!successorOf.has(e.prevHash)) successorOf.set(e.prevHash, e.seq);
    const result = await verifyChain({
      pages: [bySeq],
      anchor: { seq: header.anchor.seq, hash: header.anchor.hash },
      checkpoints,
      keys,
      findSuccessor: (h) => successorOf.get(h),
      expectLastSeq: header.to,
      requireCheckpointAt: header.to,
    });
    return { ...result, header };
  } finally {
    lines.close();
  }
}
