/**
 * Keeps the garbage of a long stream small. Every chunk through zlib and OpenPGP is a fresh
 * ArrayBuffer; their JavaScript wrappers are tiny, so V8 collects them only when external memory
 * has grown by its soft limit (64 MB), and a backup's RSS would carry up to that much dead
 * buffer memory. A minor GC every few megabytes of data (about a millisecond each) frees them as
 * they die, which keeps `backup create` inside its memory budget.
 *
 * `gc` is not exposed without --expose-gc; the flag is set at run time and the function taken
 * from a fresh context (a documented V8 behaviour). If that ever fails, pacing is a no-op.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

let gcFn: Gc | null | undefined;

function getGc(): Gc | null {
  if (gcFn !== undefined) return gcFn;
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn: unknown = vm.runInNewContext('gc');
    gcFn = typeof fn === 'function' ? (fn as Gc) : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** Returns a function to call with the running byte count; it collects every `every` bytes. */
export function gcPacer(every = 8 * 1024 * 1024): (bytes: number) => void {
  const gc = getGc();
  let next = every;
  return (bytes) => {
    if (!gc || bytes < next) return;
    next = bytes + every;
    gc({ type: 'minor' });
  };
}
