/**
 * Checkpoints written outside the database (`DATA_DIR/audit/checkpoints/`), one JSON file each.
 * Someone who can rewrite the audit tables cannot make these disappear with the same access; the
 * verifier reads them together with the copies in the database.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirNames } from '../../platform/dir-names.js';
import path from 'node:path';
import { isHash } from './canonical.js';
import type { Checkpoint } from './signing.js';

export function checkpointDir(dataDir: string): string {
  return path.resolve(dataDir, 'audit', 'checkpoints');
}

function fileName(seq: number): string {
  return `${String(seq).padStart(15, '0')}.json`;
}

export function parseCheckpoint(value: unknown): Checkpoint | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const c = value as Record<string, unknown>;
  if (c['v'] !== 1 || typeof c['seq'] !== 'number' || !Number.isSafeInteger(c['seq']) || !isHash(c['hash']))
    return undefined;
  if (typeof c['time'] !== 'string' || typeof c['kid'] !== 'string' || typeof c['sig'] !== 'string') return undefined;
  return { v: 1, seq: c['seq'], hash: c['hash'], time: c['time'], kid: c['kid'], sig: c['sig'] };
}

export class CheckpointFiles {
  constructor(readonly dir: string) {}

  /** Writes the file unless one exists for that seq (first writer wins; the verifier checks both). */
  async write(c: Checkpoint): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const final = path.join(this.dir, fileName(c.seq));
    const existing = await readFile(final, 'utf8').catch(() => undefined);
    if (existing !== undefined) return;
    const tmp = `${final}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(c)}\n`, { mode: 0o600 });
    await rename(tmp, final);
  }

  /**
   * Every checkpoint file. A file that does not parse still counts: it is returned with an empty
   * signature so the verifier reports it as a bad signature instead of silently skipping it.
   */
  async readAll(): Promise<Checkpoint[]> {
    const names = await dirNames(this.dir);
    const out: Checkpoint[] = [];
    for (const name of names.filter((n) => /^\d{1,20}\.json$/.test(n)).sort()) {
      const raw = await readFile(path.join(this.dir, name), 'utf8');
      let parsed: Checkpoint | undefined;
      try {
        parsed = parseCheckpoint(JSON.parse(raw));
      } catch {
        parsed = undefined;
      }
      out.push(parsed ?? { v: 1, seq: Number(name.slice(0, -5)), hash: '', time: '', kid: 'unreadable', sig: '' });
    }
    return out;
  }
}
