/**
 * `node --import ./test/support/footprint/recorder.mjs entry.js`: appends to the file named by
 * FOOTPRINT_LOG every module the process loads, one URL or path a line, as it loads it: ES
 * modules through a resolve hook (module.register), CommonJS through Module._load. Tests read the
 * file while the process runs (test/footprint.test.ts).
 */
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const log = process.env.FOOTPRINT_LOG;
if (log) {
  register('./hooks.mjs', import.meta.url, { data: { log } });
  const load = Module._load;
  Module._load = function recordedLoad(request, parent, isMain) {
    const loaded = load.call(this, request, parent, isMain);
    try {
      appendFileSync(log, `cjs ${Module._resolveFilename(request, parent, isMain)} ${parent?.filename ?? '-'}\n`);
    } catch {
      appendFileSync(log, `cjs ${request} ${parent?.filename ?? '-'}\n`);
    }
    return loaded;
  };
}
