/** The site's enabled languages (default first), read once per page from the public list. */
import { useEffect, useState } from 'react';
import { api } from '../../api';

export interface SiteLanguage {
  code: string;
  name: string;
  nativeName: string;
  isDefault: boolean;
}

let cached: Promise<SiteLanguage[]> | null = null;

function load(): Promise<SiteLanguage[]> {
  cached ??= api<{ items: SiteLanguage[] }>('GET', '/api/public/languages').then((res) => {
    if (!res.ok) {
      cached = null;
      return [];
    }
    return res.data.items;
  });
  return cached;
}

/** Forget the list (after a language screen changed it): the next screen reads it again. */
export function forgetSiteLanguages(): void {
  cached = null;
}

export function useSiteLanguages(): SiteLanguage[] | null {
  const [languages, setLanguages] = useState<SiteLanguage[] | null>(null);
  useEffect(() => {
    let live = true;
    void load().then((l) => {
      if (live) setLanguages(l);
    });
    return () => {
      live = false;
    };
  }, []);
  return languages;
}

/** The languages in the order to show them: `first` (the record's default language), then the rest. */
export function ordered(languages: readonly SiteLanguage[], first: string | undefined): SiteLanguage[] {
  const head = languages.find((l) => l.code === first) ?? languages.find((l) => l.isDefault);
  const known = head ? [head, ...languages.filter((l) => l !== head)] : [...languages];
  // A default language that is no longer enabled still gets its column: its text is the plain field.
  if (first && !known.some((l) => l.code === first)) {
    known.unshift({ code: first, name: first, nativeName: first, isDefault: false });
  }
  return known;
}
