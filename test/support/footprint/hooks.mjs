/**
 * The resolve hook of recorder.mjs (runs on the loader thread): one `esm <url> <parent url>` line
 * per import.
 */
import { appendFileSync } from 'node:fs';

let log;
export function initialize(data) {
  log = data.log;
}
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  appendFileSync(log, `esm ${result.url} ${context.parentURL ?? '-'}\n`);
  return result;
}
