/**
 * Which test files can behave differently when the run is given real services. The PostgreSQL +
 * Redis pass of CI (.ci/run) runs only these: every other file does exactly the same work in both
 * passes, so running it twice proves nothing new.
 *
 * A file depends on the services when it, or anything it imports (relative imports, static or
 * dynamic, followed through src/ and test/), names TEST_DATABASE_URL or TEST_REDIS_URL: the only
 * way a test learns it has them (test/helpers/services.ts, and a few files reading the variable
 * themselves). test/service-files.test.ts checks the list.
 *
 * `npx tsx test/service-files.ts` prints the files that depend on the services, one per line;
 * `--others` prints the rest.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(import.meta.dirname, '..');
/** What vitest.config.ts includes (it excludes test/faults). */
const TEST_DIRS = ['src', 'test'];

const SERVICE_VARIABLES = /\bTEST_(DATABASE|REDIS)_URL\b/;
const IMPORTS = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

async function testFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    // node_modules is not ours; test/faults is not `npm test`'s (vitest.config.ts excludes it).
    if (entry.name === 'node_modules' || (entry.name === 'faults' && path.basename(dir) === 'test')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await testFiles(full)));
    else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

/** The TypeScript file a relative import names (`./x.js` is `./x.ts`), if it is one of ours. */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts'), base];
  return candidates.find((c) => c.endsWith('.ts') && existsSync(c));
}

export interface ServiceSplit {
  /** Relative to the repository root, sorted. */
  withServices: string[];
  others: string[];
}

export async function serviceSplit(root = ROOT): Promise<ServiceSplit> {
  const files = (await Promise.all(TEST_DIRS.map((d) => testFiles(path.join(root, d))))).flat().sort();
  // The import graph of everything the test files reach, and which of its files name a variable.
  const importers = new Map<string, string[]>();
  const naming: string[] = [];
  const seen = new Set<string>(files);
  const queue = [...files];
  while (queue.length > 0) {
    const file = queue.pop()!;
    const text = await readFile(file, 'utf8');
    if (SERVICE_VARIABLES.test(text)) naming.push(file);
    for (const match of text.matchAll(IMPORTS)) {
      const target = resolveImport(file, match[1]!);
      if (!target) continue;
      importers.set(target, [...(importers.get(target) ?? []), file]);
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  // Every file from which a naming file can be reached, walking the imports backwards.
  const depends = new Set(naming);
  const back = [...naming];
  while (back.length > 0) {
    for (const importer of importers.get(back.pop()!) ?? []) {
      if (!depends.has(importer)) {
        depends.add(importer);
        back.push(importer);
      }
    }
  }
  const split: ServiceSplit = { withServices: [], others: [] };
  for (const file of files) (depends.has(file) ? split.withServices : split.others).push(path.relative(root, file));
  return split;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const split = await serviceSplit();
  const list = process.argv.includes('--others') ? split.others : split.withServices;
  process.stdout.write(list.map((f) => `${f}\n`).join(''));
}
