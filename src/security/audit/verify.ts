/**
 * Verification, independent of where the rows come from (the database, or a JSONL bundle with no
 * database at all). It walks the chain by `seq`, never by time, and reports the first damaged `seq`
 * with the kind of damage:
 *
 * - `deleted`      a `seq` is missing in the middle (or rows were removed outside the prune procedure);
 * - `modified`     a row's content or hash no longer matches (its link to the previous row is intact);
 * - `reordered`    a row sits at the wrong position: the rightful successor of the previous row is elsewhere;
 * - `forked`       a self-consistent row (or a rewritten stretch) that does not descend from the signed
 *                  history: it links to another predecessor, or a signed checkpoint names another hash;
 * - `truncated`    a signed checkpoint (or the bundle header) names a `seq` beyond the last row;
 * - `bad_signature` a checkpoint whose signature does not verify with a trusted key.
 *
 * What each defence covers: the chain alone catches edits, middle deletions and reordering; the
 * signed checkpoints kept outside the database catch tail truncation and a whole-chain rewrite
 * with recomputed hashes (the attacker has no signing key). Events after the newest checkpoint are
 * protected by the chain only, which is why checkpoints are taken every AUDIT_CHECKPOINT_EVERY
 * events or AUDIT_CHECKPOINT_INTERVAL seconds.
 */
import { chainHash, preEncodedHash, type ChainedEvent, type PreEncodedRow } from './canonical.js';
import { checkSignature, type Checkpoint, type TrustedKeys } from './signing.js';

export const DAMAGE_KINDS = ['modified', 'deleted', 'reordered', 'truncated', 'bad_signature', 'forked'] as const;
export type DamageKind = (typeof DAMAGE_KINDS)[number];

export interface Damage {
  kind: DamageKind;
  /** The first bad seq. */
  seq: number;
  detail: string;
}

export interface Anchor {
  /** The last seq before the verified range (0 = genesis). */
  seq: number;
  hash: string;
  /** A prune anchor must be confirmed by a valid signed checkpoint at exactly (seq, hash). */
  requireCheckpoint?: boolean;
  /** ...and by a retained `audit.prune` event naming it; otherwise rows from this seq were deleted. */
  requirePruneEvent?: boolean;
  /** Where an unconfirmed anchor's deletion is reported to start. */
  deletedFrom?: number;
}

export interface VerifyInput {
  /** The rows in seq order, page by page (a page is walked without an await per row). */
  pages: AsyncIterable<readonly (ChainedEvent | PreEncodedRow)[]> | Iterable<readonly (ChainedEvent | PreEncodedRow)[]>;
  /** The full row at a seq: needed when a pre-encoded row fails the fast check. */
  fullRow?: (seq: number) => Promise<ChainedEvent | undefined>;
  anchor: Anchor;
  checkpoints: readonly Checkpoint[];
  keys: TrustedKeys;
  /** Finds where the row whose prev_hash is `hash` sits (reorder detection; only called on damage). */
  findSuccessor?: (prevHash: string) => Promise<number | undefined> | number | undefined;
  /** The range must end exactly here (bundles): fewer rows is a truncated tail. */
  expectLastSeq?: number;
  /** A valid signed checkpoint must exist at this seq (a bundle's last row). */
  requireCheckpointAt?: number;
}

export interface VerifyResult {
  ok: boolean;
  /** Rows walked. */
  events: number;
  firstSeq: number | null;
  lastSeq: number | null;
  lastHash: string;
  checkpoints: { total: number; valid: number };
  lastCheckpoint: Checkpoint | null;
  damage: Damage | null;
  ms: number;
  /** Rows whose server-built encoding did not match and were re-checked in full (diagnostics). */
  rechecked: number;
}

export async function verifyChain(input: VerifyInput): Promise<VerifyResult> {
  const started = performance.now();
  const { anchor, keys } = input;
  const problems: Damage[] = [];

  // 1. Checkpoint signatures, and an index of the valid ones by seq.
  const valid = new Map<number, Checkpoint[]>();
  let lastCheckpoint: Checkpoint | null = null;
  let validCount = 0;
  for (const cp of [...input.checkpoints].sort((a, b) => a.seq - b.seq)) {
    if (cp.seq < anchor.seq) continue; // covers pruned rows: nothing left to compare with
    const sig = checkSignature(cp, keys);
    if (sig !== 'valid') {
      problems.push({
        kind: 'bad_signature',
        seq: cp.seq,
        detail: sig === 'unknown_key' ? `the checkpoint at seq ${cp.seq} is signed by an untrusted key (kid ${cp.kid})` : `the checkpoint at seq ${cp.seq} has an invalid signature`,
      });
      continue;
    }
    validCount++;
    valid.set(cp.seq, [...(valid.get(cp.seq) ?? []), cp]);
    if (!lastCheckpoint || cp.seq >= lastCheckpoint.seq) lastCheckpoint = cp;
  }

  // 2. The anchor a retained chain starts from.
  if (anchor.seq > 0 && anchor.requireCheckpoint) {
    const atAnchor = valid.get(anchor.seq) ?? [];
    if (!atAnchor.some((c) => c.hash === anchor.hash)) {
      problems.push({
        kind: 'deleted',
        seq: anchor.deletedFrom ?? 1,
        detail: `rows up to seq ${anchor.seq} are gone but no signed checkpoint confirms a prune there`,
      });
    }
  }
  for (const cp of valid.get(anchor.seq) ?? []) {
    if (anchor.seq > 0 && cp.hash !== anchor.hash) {
      problems.push({ kind: 'forked', seq: anchor.seq, detail: `the retained anchor at seq ${anchor.seq} differs from its signed checkpoint` });
    }
  }

  // 3. The walk.
  let expected = anchor.seq + 1;
  let prev = anchor.hash;
  let events = 0;
  let firstSeq: number | null = null;
  let broken = false;
  let sawPruneEvent = !anchor.requirePruneEvent;
  let rechecked = 0;
  walk: for await (const page of input.pages) {
    for (const row of page) {
      if (row.seq <= anchor.seq) continue;
      if (row.seq < expected) {
        problems.push({ kind: 'forked', seq: row.seq, detail: `two events claim seq ${row.seq}` });
        broken = true;
        break walk;
      }
      firstSeq ??= row.seq;
      if (row.seq > expected) {
        problems.push({
          kind: 'deleted',
          seq: expected,
          detail: row.seq - expected === 1 ? `seq ${expected} is missing` : `seq ${expected} to ${row.seq - 1} are missing`,
        });
        broken = true;
        break walk;
      }
      let computed: string | null;
      if ('pre' in row) {
        computed = preEncodedHash(row);
        if (computed !== row.hash) {
          // The fast path is only an optimisation: the full encoding decides.
          rechecked++;
          const full = input.fullRow ? await input.fullRow(row.seq) : undefined;
          computed = full ? chainHash(full, full.prevHash) : computed;
        }
      } else {
        computed = chainHash(row, row.prevHash);
      }
      if (computed !== row.hash || row.prevHash !== prev) {
        const successor = row.prevHash !== prev && input.findSuccessor ? await input.findSuccessor(prev) : undefined;
        const displaced = successor !== undefined && successor !== row.seq;
        let damage: Damage;
        if (computed !== row.hash) {
          damage =
            row.prevHash !== prev && displaced
              ? { kind: 'reordered', seq: row.seq, detail: `seq ${row.seq} holds another position's event (the successor of seq ${row.seq - 1} is at seq ${successor})` }
              : { kind: 'modified', seq: row.seq, detail: `the event at seq ${row.seq} does not match its hash` };
        } else {
          damage = displaced
            ? { kind: 'reordered', seq: row.seq, detail: `seq ${row.seq} holds another position's event (the successor of seq ${row.seq - 1} is at seq ${successor})` }
            : { kind: 'forked', seq: row.seq, detail: `the event at seq ${row.seq} descends from another history than seq ${row.seq - 1}` };
        }
        problems.push(damage);
        broken = true;
        break walk;
      }
      const cps = valid.get(row.seq);
      if (cps) for (const cp of cps) {
        if (cp.hash !== row.hash) {
          problems.push({
            kind: 'forked',
            seq: row.seq,
            detail: `the chain at seq ${row.seq} differs from its signed checkpoint: history was rewritten at or before seq ${row.seq}`,
          });
          broken = true;
        }
      }
      if (broken) break walk;
      if (!sawPruneEvent && row.action === 'audit.prune' && row.metadata['toSeq'] === anchor.seq) sawPruneEvent = true;
      prev = row.hash;
      expected++;
      events++;
    }
  }
  const lastSeq = expected - 1;

  // 4. The tail: nothing signed (or promised) may lie beyond the last row.
  if (!broken) {
    if (!sawPruneEvent) {
      problems.push({
        kind: 'deleted',
        seq: anchor.deletedFrom ?? 1,
        detail: `rows up to seq ${anchor.seq} are gone but no audit.prune event records their removal`,
      });
    }
    const beyond = [...valid.keys()].filter((s) => s > lastSeq).sort((a, b) => b - a)[0];
    if (beyond !== undefined) {
      problems.push({
        kind: 'truncated',
        seq: lastSeq + 1,
        detail: `a signed checkpoint names seq ${beyond} but the chain ends at seq ${lastSeq}`,
      });
    } else if (input.expectLastSeq !== undefined && lastSeq < input.expectLastSeq) {
      problems.push({ kind: 'truncated', seq: lastSeq + 1, detail: `the range should end at seq ${input.expectLastSeq} but ends at seq ${lastSeq}` });
    }
    const at = input.requireCheckpointAt;
    if (at !== undefined && at > anchor.seq && !(valid.get(at) ?? []).length && !problems.some((p) => p.kind === 'bad_signature' && p.seq === at)) {
      problems.push({ kind: 'bad_signature', seq: at, detail: `no valid signed checkpoint covers seq ${at}, the end of the range` });
    }
  }

  problems.sort((a, b) => a.seq - b.seq);
  return {
    ok: problems.length === 0,
    events,
    firstSeq,
    lastSeq: lastSeq > anchor.seq ? lastSeq : null,
    lastHash: prev,
    checkpoints: { total: input.checkpoints.length, valid: validCount },
    lastCheckpoint,
    damage: problems[0] ?? null,
    ms: performance.now() - started,
    rechecked,
  };
}

/** The one-line summary the CLI and the dashboard show. */
export function describeResult(r: VerifyResult): string {
  if (r.damage) return `Audit chain damaged at seq ${r.damage.seq}: ${r.damage.kind.replace('_', ' ')} (${r.damage.detail})`;
  const range = r.firstSeq === null ? 'no events' : `${r.events} event${r.events === 1 ? '' : 's'}, seq ${r.firstSeq}-${r.lastSeq ?? r.firstSeq}`;
  const cp = r.lastCheckpoint ? `, last signed checkpoint at seq ${r.lastCheckpoint.seq} (${r.lastCheckpoint.time}, kid ${r.lastCheckpoint.kid})` : ', no checkpoint yet';
  return `Audit chain intact: ${range}, ${r.checkpoints.valid} valid checkpoint${r.checkpoints.valid === 1 ? '' : 's'}${cp}`;
}
