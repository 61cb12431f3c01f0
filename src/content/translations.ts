/**
 * Per-language texts. A plain field (`title`) is written in the portfolio's default language; other
 * languages live in `translations: { "es": { "title": "..." } }`. Readers ask with `?lang=` and
 * get each field in the best language that has it, falling back field by field to the plain
 * (default-language) value, so a half-translated portfolio still reads as a whole.
 */
import { Type, type TSchema } from 'typebox';
import { qualityOf } from '../http/http-cache.js';
import { contentErrors } from './errors.js';

/** BCP 47 subset: language, optional script, optional region (en, es, pt-BR, zh-Hant-TW, es-419). */
export const LANGUAGE_TAG_PATTERN = '^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?$';

/** What a reader may ask for: the same shape, any letter case (`pt-br`), a few more subtags. */
export const REQUESTED_LANGUAGE_PATTERN = '^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$';

/** Caps keep one row's JSON small: every translated string is also capped by its field's schema. */
export const MAX_TRANSLATION_LANGUAGES = 20;

export const LanguageTag = Type.String({
  pattern: LANGUAGE_TAG_PATTERN,
  maxLength: 16,
  description: 'Language tag such as en, es or pt-BR',
  examples: ['en', 'pt-BR'],
});

export type Translations = Record<string, Record<string, string>>;

/**
 * The `translations` schema of a resource: keys are language tags, inner keys only the resource's
 * translatable fields with the same limits as the plain field. Anything else is a 400.
 */
export function translationsSchema(fields: Readonly<Record<string, TSchema>>) {
  const inner = Type.Object(
    Object.fromEntries(Object.entries(fields).map(([name, schema]) => [name, Type.Optional(schema)])),
    { additionalProperties: false, minProperties: 1 },
  );
  // Unsafe only types it: the inner object is built at runtime, so TypeBox cannot infer it.
  return Type.Unsafe<Translations>(
    Type.Record(Type.String({ pattern: LANGUAGE_TAG_PATTERN }), inner, {
      additionalProperties: false,
      maxProperties: MAX_TRANSLATION_LANGUAGES,
      description: `Texts in other languages, keyed by language tag; fields: ${Object.keys(fields).join(', ')}`,
    }),
  );
}

/**
 * The default language's text is the plain field; a translation under the same tag would be a
 * second, silently ignored copy, so it is refused instead.
 */
export function assertNoDefaultLanguageEntry(
  translations: Translations | undefined,
  defaultLanguage: string,
  path = 'body/translations',
): void {
  if (!translations) return;
  for (const tag of Object.keys(translations)) {
    if (tag.toLowerCase() === defaultLanguage.toLowerCase()) {
      throw contentErrors.invalid(
        `${path}/${tag}`,
        `"${tag}" is the default language: put its text in the plain fields`,
      );
    }
  }
}

/** Reads a stored translations value defensively: only string leaves count. */
export function asTranslations(value: unknown): Translations {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const out: Translations = {};
  for (const [tag, fields] of Object.entries(value as Record<string, unknown>)) {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) continue;
    const texts: Record<string, string> = {};
    for (const [name, text] of Object.entries(fields as Record<string, unknown>)) {
      if (typeof text === 'string') texts[name] = text;
    }
    out[tag] = texts;
  }
  return out;
}

const primaryOf = (tag: string) => tag.toLowerCase().split('-')[0] ?? '';

/**
 * Picks the language to answer in: an exact (case-insensitive) match among the available tags,
 * else the bare primary language (`pt` for `pt-PT`), else any tag with that primary language
 * (`pt-BR` for `pt`), else the default language.
 */
export function negotiateLanguage(
  requested: string | undefined,
  defaultLanguage: string,
  available: Iterable<string>,
): string {
  if (!requested) return defaultLanguage;
  return matchLanguage(requested, [defaultLanguage, ...available]) ?? defaultLanguage;
}

/** negotiateLanguage's matching rules for one requested tag; undefined when nothing matches. */
export function matchLanguage(requested: string, tags: readonly string[]): string | undefined {
  const wanted = requested.toLowerCase();
  const primary = primaryOf(requested);
  return (
    tags.find((t) => t.toLowerCase() === wanted) ??
    tags.find((t) => t.toLowerCase() === primary) ??
    tags.find((t) => primaryOf(t) === primary)
  );
}

/** A longer Accept-Language is cut here (a hostile header costs no more than this). */
const MAX_ACCEPT_LANGUAGE_CHARS = 1024;
/** The reader's first preferences that are considered. */
const MAX_ACCEPTED_LANGUAGES = 8;
const requestedLanguage = new RegExp(REQUESTED_LANGUAGE_PATTERN);

/**
 * The language tags of an Accept-Language header, most preferred first (q, then order). `*`,
 * q=0, tags that are not language tags and entries with unreadable parameters are left out, so
 * a garbage header reads as no preference at all.
 */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  let parts = header.slice(0, MAX_ACCEPT_LANGUAGE_CHARS).split(',');
  // The last entry of a cut header may itself be cut.
  if (header.length > MAX_ACCEPT_LANGUAGE_CHARS) parts = parts.slice(0, -1);
  const entries: { tag: string; q: number; at: number }[] = [];
  parts.forEach((part, at) => {
    const [range = '', ...params] = part.split(';');
    const tag = range.trim();
    if (!requestedLanguage.test(tag)) return;
    const q = qualityOf(params);
    if (q !== null && q > 0 && !entries.some((e) => e.tag.toLowerCase() === tag.toLowerCase()))
      entries.push({ tag, q, at });
  });
  entries.sort((a, b) => b.q - a.q || a.at - b.at);
  return entries.slice(0, MAX_ACCEPTED_LANGUAGES).map((e) => e.tag);
}

/**
 * The chain of translation entries to try for one language before the plain field: `pt-BR`, then
 * `pt`. Empty for the default language, whose text is the plain field.
 */
export function languageChain(language: string, defaultLanguage: string): string[] {
  if (language.toLowerCase() === defaultLanguage.toLowerCase()) return [];
  const primary = primaryOf(language);
  const chain = [language];
  if (primary !== language.toLowerCase() && primary !== primaryOf(defaultLanguage)) chain.push(primary);
  return chain;
}

/** The longest chain a read tries before the plain field (the SQL read has as many columns). */
export const MAX_READ_CHAIN = 6;

/**
 * The translation entries a read tries, in order, before the plain field, for the negotiated
 * `language` when the plain field is in `plainLanguage`: the language itself, the fallbacks the
 * site languages declare for it (`declared`, in order: src/content/languages `declaredChain`), its
 * primary language (`pt-BR` -> `pt`, unless the plain field is already that language), then the
 * site default language, which is the fallback of every read. Each tag once (case-insensitively),
 * never the plain field's own language, at most MAX_READ_CHAIN. Empty when the read is in the
 * plain field's language. The one-statement public read computes the same in SQL.
 */
export function readChain(
  language: string,
  plainLanguage: string,
  declared: readonly string[],
  siteDefault: string,
): string[] {
  const plain = plainLanguage.toLowerCase();
  if (language.toLowerCase() === plain) return [];
  const primary = primaryOf(language);
  const candidates = [language, ...declared];
  if (primary !== language.toLowerCase() && primary !== primaryOf(plainLanguage)) candidates.push(primary);
  candidates.push(siteDefault);
  const out: string[] = [];
  for (const tag of candidates) {
    const lower = tag.toLowerCase();
    if (lower === plain || out.some((t) => t.toLowerCase() === lower)) continue;
    out.push(tag);
  }
  return out.slice(0, MAX_READ_CHAIN);
}

/** Returns the row with each translatable field resolved for the chain; other fields untouched. */
export function localize<T extends Record<string, unknown>>(
  row: T,
  fields: readonly string[],
  translations: Translations,
  chain: readonly string[],
): T {
  if (chain.length === 0) return row;
  const out: Record<string, unknown> = { ...row };
  for (const field of fields) {
    for (const tag of chain) {
      const text = translations[tag]?.[field];
      if (text !== undefined) {
        out[field] = text;
        break;
      }
    }
  }
  return out as T;
}
