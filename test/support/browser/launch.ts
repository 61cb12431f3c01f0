/**
 * Debian's Chromium driven by playwright-core (never `npx playwright install`: nothing can be
 * downloaded here). Without /usr/bin/chromium a browser test is skipped with the reason, except
 * in CI (CI=true), where a missing browser is a failure. Flags: ../shared/SERVICES.md "Chromium".
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { IN_CI } from '../../helpers/services.js';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const SKIP_REASON = `browser test skipped: ${CHROMIUM} not found (apt-get install -y chromium)`;
/** `describe.skipIf(SKIP_BROWSER_TESTS)`: skip without a browser, unless in CI. */
export const SKIP_BROWSER_TESTS = !HAVE_CHROMIUM && !IN_CI;
if (SKIP_BROWSER_TESTS) process.stderr.write(`${SKIP_REASON}\n`);

export async function launchChromium(): Promise<Browser> {
  if (!HAVE_CHROMIUM) throw new Error(`CI=true but ${SKIP_REASON}`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}
