/**
 * The schema is composed from one section per feature (src/config/sections/): every variable is
 * declared once, each docs group is one section, and the two variables that take browser origins
 * (CORS_ORIGINS, WEBAUTHN_ORIGIN) go through one parser, so they accept and refuse the same values.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';
import { schema, sections } from './schema.js';

function reasonOf(env: Record<string, string>, key: string): string | undefined {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.find((p) => p.key === key)?.reason;
    throw err;
  }
  return undefined;
}

describe('config schema sections', () => {
  it('declares every variable in exactly one section, in documentation order', () => {
    // A variable declared in two sections would be shadowed silently by the spread in schema.ts.
    expect(sections.flatMap((s) => Object.keys(s))).toEqual(Object.keys(schema));
  });

  it('gives each docs group to exactly one section', () => {
    const groups = sections.map((s) => [...new Set(Object.values(s).map((spec) => spec.group))]);
    for (const g of groups) expect(g).toHaveLength(1);
    expect(new Set(groups.flat()).size).toBe(sections.length);
  });
});

describe('one origin parser for CORS_ORIGINS and WEBAUTHN_ORIGIN', () => {
  it('refuses the same values with the same reason', () => {
    for (const value of [
      '*',
      'https://a.example, *',
      'a.example',
      'null',
      'https://a.example/path',
      'https://a.example//',
      'https://a.example?x',
      'https://a.example#f',
      'https://u:p@a.example',
      'https://a.example:443',
      'HTTPS://A.example',
      'ftp://a.example',
      'https://bücher.de',
    ]) {
      const cors = reasonOf({ CORS_ORIGINS: value }, 'CORS_ORIGINS');
      expect(cors, `CORS_ORIGINS=${value}`).toBeDefined();
      expect(reasonOf({ WEBAUTHN_ORIGIN: value }, 'WEBAUTHN_ORIGIN'), `WEBAUTHN_ORIGIN=${value}`).toBe(cors);
    }
    expect(reasonOf({ WEBAUTHN_ORIGIN: '*' }, 'WEBAUTHN_ORIGIN')).toMatch(/"\*" is not allowed/);
  });

  it('accepts the same origins, a trailing slash dropped', () => {
    const value = ' https://a.example/ , http://localhost:5173, http://[::1]:5173/';
    const expected = ['https://a.example', 'http://localhost:5173', 'http://[::1]:5173'];
    expect(loadConfig({ CORS_ORIGINS: value }).CORS_ORIGINS).toEqual(expected);
    expect(loadConfig({ WEBAUTHN_ORIGIN: value }).WEBAUTHN_ORIGIN).toEqual(expected);
  });

  it('only WEBAUTHN_ORIGIN must name an origin (an empty CORS list means no cross-origin access)', () => {
    for (const value of [' ', ',', ' , ']) {
      expect(loadConfig({ CORS_ORIGINS: value }).CORS_ORIGINS).toEqual([]);
      expect(reasonOf({ WEBAUTHN_ORIGIN: value }, 'WEBAUTHN_ORIGIN')).toBe('must hold at least one origin');
    }
  });
});
