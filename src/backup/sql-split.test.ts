/**
 * PGlite restores run the dump a batch of whole statements at a time. A semicolon inside a
 * string, an identifier, a dollar-quoted body or a comment must never end a statement, wherever
 * the stream happens to be cut into chunks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SqlBatcher } from './sql-split.js';

const SCRIPT = [
  `-- a comment; with a semicolon\n`,
  `SET standard_conforming_strings = on;\n`,
  `\\restrict abc123\n`,
  `CREATE FUNCTION public.f() RETURNS integer LANGUAGE plpgsql AS $$ begin return 1; end $$;\n`,
  `CREATE FUNCTION public.g() RETURNS text LANGUAGE sql AS $body$ select 'a;b' $body$;\n`,
  `INSERT INTO public.t VALUES (1, 'it''s; fine', E'esc\\'aped; \\\\', "we;ird");\n`,
  `/* block /* nested; */ still; */ INSERT INTO public.t VALUES (2, 'multi\nline;');\n`,
  `SELECT pg_catalog.setval('public.t_id_seq', 2, true);\n`,
  `\n--\n-- PostgreSQL database dump complete\n--\n\n`,
].join('');

function run(chunks: string[], batchChars: number): string[] {
  const b = new SqlBatcher(batchChars);
  const out: string[] = [];
  for (const c of chunks) out.push(...b.push(c));
  out.push(b.end());
  return out.filter((s) => s !== '');
}

/** Fed one character at a time with the smallest batch size, each batch is exactly one statement. */
const STATEMENTS = run([...SCRIPT], 1);

function cutPoints(batches: string[]): number[] {
  let at = 0;
  return batches.map((b) => (at += b.length));
}

describe('SqlBatcher', () => {
  it('cuts only at real statement ends and drops psql meta-commands', () => {
    expect(STATEMENTS).toHaveLength(7);
    expect(STATEMENTS.join('')).not.toContain('\\restrict');
    expect(STATEMENTS[1]).toMatch(/\$\$ begin return 1; end \$\$;$/);
    expect(STATEMENTS[2]).toMatch(/\$body\$ select 'a;b' \$body\$;$/);
    expect(STATEMENTS[3]).toMatch(/"we;ird"\);$/);
    expect(STATEMENTS[4]).toMatch(/'multi\nline;'\);$/);
    expect(STATEMENTS[5]).toMatch(/setval.*;$/);
  });

  it('cuts at the same places whatever the chunk boundaries (property)', () => {
    const allowed = new Set(cutPoints(STATEMENTS));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: SCRIPT.length - 1 }), { maxLength: 20 }), fc.integer({ min: 1, max: 400 }), (cuts, batchChars) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: string[] = [];
        let prev = 0;
        for (const p of points) {
          chunks.push(SCRIPT.slice(prev, p));
          prev = p;
        }
        chunks.push(SCRIPT.slice(prev));
        const batches = run(chunks, batchChars);
        expect(batches.join('')).toBe(STATEMENTS.join(''));
        for (const p of cutPoints(batches)) expect(allowed.has(p)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('groups statements into batches of about the requested size', () => {
    const b = new SqlBatcher(100);
    const batches = [...b.push(`${'INSERT INTO t VALUES (1);\n'.repeat(20)}`), b.end()];
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.join('')).toBe('INSERT INTO t VALUES (1);\n'.repeat(20).replace(/\n$/, '') + '\n');
  });

  it('refuses a dump that ends inside a string or a statement', () => {
    const open = new SqlBatcher();
    open.push(`INSERT INTO t VALUES ('unterminated`);
    expect(() => open.end()).toThrow(/ends inside a string/);
    const half = new SqlBatcher();
    half.push(`INSERT INTO t VALUES (1)`);
    expect(() => half.end()).toThrow(/middle of a statement/);
  });
});
