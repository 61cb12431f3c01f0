/**
 * The header scanners of src/http/http-cache.ts on their own: RFC 9110 weak comparison for
 * If-None-Match (13.1.2), Accept-Encoding q-values, and bounded work for hostile headers.
 */
import { describe, expect, it } from 'vitest';
import { acceptedLanguages } from '../content/translations.js';
import { ifNoneMatchHits, negotiateEncoding, strongEtag } from './http-cache.js';

describe('ifNoneMatchHits', () => {
  const tag = strongEtag('{"a":1}');

  it('uses weak comparison: W/ on either side is ignored, opaque tags must be equal', () => {
    expect(ifNoneMatchHits(tag, tag)).toBe(true);
    expect(ifNoneMatchHits(`W/${tag}`, tag)).toBe(true);
    expect(ifNoneMatchHits(tag, `W/${tag}`)).toBe(true);
    expect(ifNoneMatchHits(tag.toLowerCase() === tag ? tag.toUpperCase() : tag.toLowerCase(), tag)).toBe(false);
    expect(ifNoneMatchHits(tag.slice(1, -1), tag)).toBe(false);
  });

  it('matches any tag of a list, and * alone', () => {
    expect(ifNoneMatchHits(`"a", "b,c" ,${tag}`, tag)).toBe(true);
    expect(ifNoneMatchHits('"a", "b"', tag)).toBe(false);
    expect(ifNoneMatchHits('*', tag)).toBe(true);
    expect(ifNoneMatchHits(' * ', tag)).toBe(true);
    expect(ifNoneMatchHits('*, "a"', tag)).toBe(false);
  });

  it('a quoted comma is part of a tag, not a separator', () => {
    const inner = tag.slice(1, -1);
    expect(ifNoneMatchHits(`"x,${inner}"`, tag)).toBe(false);
  });

  it('skips garbage elements and never throws on hostile input', () => {
    expect(ifNoneMatchHits(`garbage, ${tag}`, tag)).toBe(true);
    expect(ifNoneMatchHits(`"unterminated, ${tag}`, tag)).toBe(false);
    for (const h of ['', ',', 'W/', 'W/W/"', '"', '""', '"'.repeat(9000), `${'"a",'.repeat(3000)}${tag}`]) {
      expect(() => ifNoneMatchHits(h, tag)).not.toThrow();
      expect(ifNoneMatchHits(h, tag)).toBe(false);
    }
  });

  it('each content coding is its own strong tag', () => {
    const body = 'x'.repeat(2000);
    expect(new Set([strongEtag(body), strongEtag(body, 'br'), strongEtag(body, 'gzip')]).size).toBe(3);
  });
});

describe('negotiateEncoding', () => {
  it.each([
    [undefined, 'identity'],
    ['', 'identity'],
    ['gzip, deflate, br', 'br'],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['BR', 'br'],
    ['br;q=0', 'identity'],
    ['br;q=0.1, gzip;q=0.9', 'gzip'],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['br;q=x', 'identity'],
    ['br;q=1.5', 'identity'],
    ['gzip;q=0.5, br;q=0.5', 'br'],
  ] as const)('%s -> %s', (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected);
  });

  it('ignores an over-long header', () => {
    expect(negotiateEncoding(`${'x,'.repeat(10_000)}br`)).toBe('identity');
  });
});

describe('acceptedLanguages', () => {
  it('orders by q, then by position, and drops what is no language tag', () => {
    expect(acceptedLanguages('fr-CA, fr;q=0.9, es;q=0.95, *;q=0.1, <x>, de;q=0')).toEqual(['fr-CA', 'es', 'fr']);
    expect(acceptedLanguages('es;q=abc, en')).toEqual(['en']);
    expect(acceptedLanguages(undefined)).toEqual([]);
  });

  it('bounds the work: a long header is cut, at most 8 tags are kept', () => {
    const many = Array.from(
      { length: 500 },
      (_, i) => `x${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + (Math.floor(i / 26) % 26))}`,
    ).join(',');
    expect(acceptedLanguages(many).length).toBe(8);
    expect(acceptedLanguages(`${'a'.repeat(100_000)}, es`)).toEqual([]);
  });
});
