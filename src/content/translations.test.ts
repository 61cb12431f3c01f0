/**
 * Language negotiation and field-by-field fallback, without HTTP: a reader asking for a language
 * must get the closest one that exists, and every text the translation lacks in the default language.
 */
import { describe, expect, it } from 'vitest';
import { asTranslations, languageChain, localize, negotiateLanguage } from './translations.js';

describe('negotiateLanguage', () => {
  const available = ['es', 'pt-BR', 'zh-Hant'];
  it.each([
    [undefined, 'en'],
    ['en', 'en'],
    ['es', 'es'],
    ['ES', 'es'],
    ['es-AR', 'es'],
    ['pt-br', 'pt-BR'],
    ['pt', 'pt-BR'],
    ['pt-PT', 'pt-BR'],
    ['zh-hant-tw', 'zh-Hant'],
    ['fr', 'en'],
    ['en-GB', 'en'],
  ])('%s → %s', (requested, expected) => {
    expect(negotiateLanguage(requested, 'en', available)).toBe(expected);
  });
});

describe('languageChain and localize', () => {
  const translations = { 'pt-BR': { title: 'Olá' }, pt: { title: 'Olá PT', summary: 'Resumo' } };
  const row = { title: 'Hello', summary: 'Summary', url: 'https://x.example' };

  it('tries the exact tag, then its primary language, then the plain field', () => {
    expect(languageChain('pt-BR', 'en')).toEqual(['pt-BR', 'pt']);
    expect(localize(row, ['title', 'summary'], translations, ['pt-BR', 'pt'])).toEqual({ title: 'Olá', summary: 'Resumo', url: 'https://x.example' });
  });

  it('uses the plain fields for the default language, even if a stray entry exists', () => {
    expect(languageChain('en', 'en')).toEqual([]);
    expect(localize(row, ['title'], { en: { title: 'Stray' } }, languageChain('en', 'en'))).toBe(row);
  });

  it('never falls back to a primary tag that is the default language', () => {
    expect(languageChain('es-MX', 'es')).toEqual(['es-MX']);
  });

  it('only translates the listed fields', () => {
    expect(localize(row, ['title'], { de: { title: 'Hallo', url: 'javascript:x' } }, ['de'])).toEqual({ ...row, title: 'Hallo' });
  });
});

describe('asTranslations', () => {
  it('keeps only string texts from stored JSON', () => {
    expect(asTranslations({ es: { title: 'Hola', n: 1 }, de: 'x', fr: null })).toEqual({ es: { title: 'Hola' } });
    expect(asTranslations(null)).toEqual({});
    expect(asTranslations([])).toEqual({});
  });
});
