import { readdir } from 'node:fs/promises';

/** The names in `dir`, or none when the folder does not exist (yet); any other error is thrown. */
export async function dirNames(dir: string): Promise<string[]> {
  try {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- a folder of this server's own configuration
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
