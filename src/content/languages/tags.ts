/**
 * Language codes as the site stores them: canonical BCP 47 tags in the subset that
 * src/content/translations.ts accepts (LANGUAGE_TAG_PATTERN: language, optional script, optional
 * region). Input in any letter case, or with `_` for `-` (`PT_br`), is brought to that form
 * (`pt-BR`): lower-case language, title-case script, upper-case region. Anything else is refused.
 */
import { LANGUAGE_TAG_PATTERN } from '../translations.js';

// A constant pattern (translations.ts), anchored and without nested quantifiers.
// eslint-disable-next-line security/detect-non-literal-regexp
const CANONICAL = new RegExp(LANGUAGE_TAG_PATTERN);
const MAX_TAG_CHARS = 16;

/** The canonical form of a language tag, or undefined when it is not one this site accepts. */
export function canonicalLanguageTag(input: string): string | undefined {
  if (input.length === 0 || input.length > MAX_TAG_CHARS) return undefined;
  const [language = '', ...subtags] = input.replace(/_/g, '-').split('-');
  const parts = [language.toLowerCase()];
  for (const subtag of subtags) {
    if (/^[A-Za-z]{4}$/.test(subtag)) parts.push(subtag[0]!.toUpperCase() + subtag.slice(1).toLowerCase());
    else parts.push(subtag.toUpperCase());
  }
  const tag = parts.join('-');
  return CANONICAL.test(tag) ? tag : undefined;
}

const englishNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' });

/** English and native display names of a tag (`pt-BR` → Brazilian Portuguese, português (Brasil)). */
export function displayNames(tag: string): { name: string; nativeName: string } {
  try {
    const native = new Intl.DisplayNames([tag], { type: 'language', fallback: 'code' });
    return { name: englishNames.of(tag) ?? tag, nativeName: native.of(tag) ?? tag };
  } catch {
    return { name: tag, nativeName: tag };
  }
}
