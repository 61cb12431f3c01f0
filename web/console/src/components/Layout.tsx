/** Every console page: skip link, header with the language switch, one <main> with the page's <h1>. */
import { useEffect, useRef, type ReactNode } from 'react';
import { LOCALES, useI18n, type Locale } from '../i18n';

export function Layout({ title, children }: { title: string; children: ReactNode }) {
  const { t, locale, setLocale } = useI18n();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · ${t('app.name')}`;
  }, [title, t]);
  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <header className="top-bar">
        <span className="brand">{t('app.name')}</span>
        <label className="lang-switch">
          <span>{t('lang.label')}</span>
          <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
            {LOCALES.map((l) => (
              <option key={l} value={l} lang={l}>
                {t(`lang.${l}`)}
              </option>
            ))}
          </select>
        </label>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <h1 ref={heading}>{title}</h1>
        {children}
      </main>
      <footer className="foot">{t('app.footer')}</footer>
    </>
  );
}
