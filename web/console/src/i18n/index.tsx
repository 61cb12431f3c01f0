/**
 * The console's language: English or Spanish, from the browser's preferences, changed with the
 * switch in the header (remembered in localStorage: a preference, never a credential). Strings
 * go through ra-i18n-polyglot's provider, the one the admin screens (ra-core) will share.
 */
import type { TranslationMessages } from 'ra-core';
import polyglotI18nProvider from 'ra-i18n-polyglot';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { en } from './en';
import { es } from './es';

export const LOCALES = ['en', 'es'] as const;
export type Locale = (typeof LOCALES)[number];
const STORAGE_KEY = 'console.locale';
const messages = { en, es };

function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** The saved choice, else the first browser language we have, else English. */
export function initialLocale(): Locale {
  try {
    const saved = window.localStorage.getItem(STORAGE_KEY);
    if (isLocale(saved)) return saved;
  } catch {
    // Storage may be off (private mode): fall through to the browser's languages.
  }
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLocale(base)) return base;
  }
  return 'en';
}

// The console's own keys; ra-core's `ra.*` keys join when the admin screens arrive.
export const i18nProvider = polyglotI18nProvider(
  (locale) => messages[isLocale(locale) ? locale : 'en'] as unknown as TranslationMessages,
  initialLocale(),
  [
    { locale: 'en', name: 'English' },
    { locale: 'es', name: 'Español' },
  ],
);

export type Translate = (key: string, options?: Record<string, unknown>) => string;

interface I18nValue {
  locale: Locale;
  t: Translate;
  setLocale: (locale: Locale) => void;
}

const I18nContext = createContext<I18nValue | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(() =>
    isLocale(i18nProvider.getLocale()) ? (i18nProvider.getLocale() as Locale) : 'en',
  );
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const setLocale = useCallback((next: Locale) => {
    void Promise.resolve(i18nProvider.changeLocale(next)).then(() => {
      try {
        window.localStorage.setItem(STORAGE_KEY, next);
      } catch {
        // Not remembered: the choice still holds for this page.
      }
      setLocaleState(next);
    });
  }, []);
  // `locale` is a dependency so that every string re-renders in the new language.
  const value = useMemo<I18nValue>(
    () => ({ locale, setLocale, t: (key, options) => i18nProvider.translate(key, { _: key, ...options }) }),
    [locale, setLocale],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}
