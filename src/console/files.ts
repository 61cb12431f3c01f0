/**
 * The built console (dist/web, written by `vite build`), read once at start into memory. The
 * files served are exactly those the Vite manifest names, plus index.html: a fixed list, so no
 * path from a request ever reaches the file system. A manifest naming a file outside assets/, or
 * a file that is missing, makes the whole build count as missing (503 CONSOLE_NOT_BUILT).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface ConsoleFile {
  body: Buffer;
  type: string;
}

export interface ConsoleBuild {
  index: Buffer;
  /** By URL path: `/assets/index-AbC123.js`. */
  assets: Map<string, ConsoleFile>;
}

/**
 * Where `vite build` writes: dist/web beside the compiled server (dist/console → dist/web), or,
 * when the server runs from src/ (tsx, tests), the repository's dist/web.
 */
export function defaultConsoleDir(here: string = import.meta.dirname): string {
  const parent = path.dirname(here);
  return path.basename(parent) === 'src' ? path.resolve(parent, '../dist/web') : path.resolve(parent, 'web');
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** Text types worth compressing (fonts and images are compressed already). */
export function compressible(type: string): boolean {
  return /^text\/|^image\/svg|^application\/json/.test(type);
}

/** A hashed asset file name as Vite writes it: `assets/<name>-<hash>.<ext>`, nothing else. */
const ASSET_PATH = /^assets\/[A-Za-z0-9_.-]+$/;

interface ManifestChunk {
  file?: unknown;
  css?: unknown;
  assets?: unknown;
}

function namesIn(manifest: Record<string, ManifestChunk>): string[] {
  const names = new Set<string>();
  for (const chunk of Object.values(manifest)) {
    const css: unknown[] = Array.isArray(chunk.css) ? chunk.css : [];
    const assets: unknown[] = Array.isArray(chunk.assets) ? chunk.assets : [];
    const list: unknown[] = [chunk.file, ...css, ...assets];
    for (const name of list) {
      if (typeof name !== 'string') continue;
      if (!ASSET_PATH.test(name) || name.includes('..'))
        throw new Error(`console manifest names an unexpected file: ${name}`);
      names.add(name);
    }
  }
  return [...names];
}

/** The build, or null when there is none (dist/web missing or incomplete); `reason` says why. */
export async function loadConsoleBuild(dir: string): Promise<{ build: ConsoleBuild | null; reason?: string }> {
  let manifest: Record<string, ManifestChunk>;
  let index: Buffer;
  try {
    // The build folder is fixed at start (dist/web); nothing here comes from a request.
    // eslint-disable-next-line security/detect-non-literal-fs-filename
    manifest = JSON.parse(await readFile(path.join(dir, '.vite', 'manifest.json'), 'utf8')) as Record<
      string,
      ManifestChunk
    >;
    // eslint-disable-next-line security/detect-non-literal-fs-filename
    index = await readFile(path.join(dir, 'index.html'));
  } catch (error) {
    return {
      build: null,
      reason: `no console build in ${dir} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    };
  }
  try {
    const assets = new Map<string, ConsoleFile>();
    for (const name of namesIn(manifest)) {
      const type = TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream';
      // A name from the manifest, checked against ASSET_PATH above.
      // eslint-disable-next-line security/detect-non-literal-fs-filename
      assets.set(`/${name}`, { body: await readFile(path.join(dir, name)), type });
    }
    return { build: { index, assets } };
  } catch (error) {
    return { build: null, reason: `incomplete console build in ${dir}: ${(error as Error).message}` };
  }
}
