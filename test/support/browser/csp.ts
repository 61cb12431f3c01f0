/**
 * A CSP-violation recorder for a browser context: every page opened in it reports each
 * `securitypolicyviolation` event (and every "Refused to ..." console message, and uncaught page
 * errors) into arrays the test reads. The listener is installed by the browser before any page
 * script runs, through Playwright's init script and binding (neither is subject to the CSP).
 */
import type { BrowserContext, Page } from 'playwright-core';

export interface CspViolation {
  directive: string;
  blocked: string;
  source: string;
  sample: string;
  page: string;
}

export interface PageWatch {
  /** securitypolicyviolation events, from every page of the context. */
  violations: CspViolation[];
  /** Console messages about refused loads, uncaught errors, dialogs: anything a user would hit. */
  problems: string[];
}

const BINDING = '__pfCspViolation';

export async function watchContext(context: BrowserContext): Promise<PageWatch> {
  const watch: PageWatch = { violations: [], problems: [] };
  await context.exposeBinding(BINDING, ({ page }, v: Omit<CspViolation, 'page'>) => {
    watch.violations.push({ ...v, page: page.url() });
  });
  // Runs in every document of the context before its own scripts (a string: this project
  // compiles without the DOM lib, and the code runs in the browser anyway).
  await context.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => {
    window.${BINDING}({ directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, sample: e.sample });
  }, true);`);
  const follow = (page: Page) => {
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) watch.problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => watch.problems.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      watch.problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
  };
  context.pages().forEach(follow);
  context.on('page', follow);
  return watch;
}
