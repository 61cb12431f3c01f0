/**
 * What a process loaded: runs an entry point (server or CLI) with tsx and the recorder
 * (./recorder.mjs) and reads back the packages it loaded, as they load (test/footprint.test.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { collect, ROOT, type Run } from '../../helpers/spawn.js';

const RECORDER = path.join(import.meta.dirname, 'recorder.mjs');

/**
 * The packages loaded (from any node_modules, the innermost one) and the files of ours (`src/...`)
 * named in the recorder's log, in the order first seen.
 */
export async function loadedFrom(log: string): Promise<{ packages: Set<string>; sources: Set<string> }> {
  const text = await readFile(log, 'utf8').catch(() => '');
  const packages = new Set<string>();
  const sources = new Set<string>();
  for (const line of text.split('\n')) {
    const loaded = line.split(' ')[1];
    if (!loaded) continue;
    const file = loaded.startsWith('file://') ? decodeURIComponent(new URL(loaded).pathname) : loaded;
    const inModules = file.split('/node_modules/').at(-1);
    if (inModules !== undefined && inModules !== file) {
      const parts = inModules.split('/');
      packages.add(parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? ''));
    } else if (file.startsWith(`${ROOT}/src/`)) {
      sources.add(path.relative(ROOT, file));
    }
  }
  return { packages, sources };
}

function recordedArgs(entry: string, args: string[]): string[] {
  return ['--import', 'tsx', '--import', RECORDER, path.join(ROOT, entry), ...args];
}

/** Runs a short command (the CLI) to its end with the recorder on. */
export function runRecorded(
  entry: string,
  args: string[],
  options: { env: Record<string, string>; log: string; input?: string; timeoutMs?: number },
): Promise<Run> {
  const child = spawn(process.execPath, recordedArgs(entry, args), {
    cwd: ROOT,
    env: { ...options.env, FOOTPRINT_LOG: options.log },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return collect(child, options);
}

/** Starts a long-running entry point (the server) with the recorder on; stop it with SIGTERM. */
export function startRecorded(entry: string, options: { env: Record<string, string>; log: string }): ChildProcess {
  return spawn(process.execPath, recordedArgs(entry, []), {
    cwd: ROOT,
    env: { ...options.env, FOOTPRINT_LOG: options.log },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
