/**
 * `npx tsx bench/browser-axe.ts`: what one axe scan of a console screen costs the browser tests,
 * the way they ran it before (`new AxeBuilder({ page }).withTags(AXE_TAGS).analyze()` of
 * @axe-core/playwright) and the way test/support/browser/axe.ts runs it now (axe injected once per
 * document, one `axe.run` in the page), side by side on the same screens, and that both find the
 * same violations (rule, impact and elements) — also on a screen given violations on purpose
 * (an image without alt text, a nameless button, an unlabelled field, grey on grey text,
 * an empty link), so "the same" is not just "none".
 *
 *   npx tsx bench/browser-axe.ts                   # 3 rounds
 *   BENCH_AXE_ROUNDS=5 npx tsx bench/browser-axe.ts
 *
 * Rounds interleave the variants (load from other processes skews both alike; read the ratio).
 * Each scan starts from a freshly loaded screen, so the new runner pays its injection every time
 * too. Needs /usr/bin/chromium and a built console (dist/web: `npx tsx scripts/build-console.ts`).
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { createUser } from '../test/helpers/factories.js';
import { AXE_TAGS, axeViolations, type AxeViolation } from '../test/support/browser/axe.js';
import { launchChromium } from '../test/support/browser/launch.js';
import { localhostTestApp } from '../test/support/browser/server.js';
import { signInThroughApi } from '../test/support/browser/session.js';
import { markdownTable } from './harness.js';

const ROUNDS = Number(process.env['BENCH_AXE_ROUNDS'] ?? 3);

/** Runs in the page: five kinds of violation added to the screen. */
const BREAK_THE_PAGE = `(() => {
  const main = document.querySelector('main') || document.body;
  const add = (html) => { const d = document.createElement('div'); d.innerHTML = html; main.appendChild(d); };
  add('<img src="/favicon.svg">');
  add('<button type="button"></button>');
  add('<input type="text">');
  add('<p class="bench-grey">grey on grey</p>');
  add('<a href="/account"></a>');
  const grey = document.querySelector('.bench-grey');
  grey.style.color = '#bbb';
  grey.style.background = '#ccc';
})()`;

const SCREENS: { name: string; path: string; h1: string; signedIn?: boolean; broken?: boolean }[] = [
  { name: 'sign-in', path: '/account/sign-in', h1: 'Sign in' },
  { name: 'my account', path: '/account', h1: 'My account', signedIn: true },
  { name: 'sessions', path: '/account/sessions', h1: 'Sessions and devices', signedIn: true },
  { name: 'security events', path: '/account/events', h1: 'Security events', signedIn: true },
  { name: 'sign-in, broken on purpose', path: '/account/sign-in', h1: 'Sign in', broken: true },
];

type Variant = 'AxeBuilder.analyze (before)' | 'in-page axe.run (now)';
const VARIANTS: Record<Variant, (page: Page) => Promise<AxeViolation[]>> = {
  'AxeBuilder.analyze (before)': async (page) =>
    (await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze()).violations,
  'in-page axe.run (now)': axeViolations,
};

/** What the tests compare: each violated rule with its impact and the elements it names. */
function fingerprint(violations: AxeViolation[]): string[] {
  return violations
    .map(
      (v) =>
        `${v.id} ${v.impact} ${v.nodes
          .map((n) => JSON.stringify(n.target))
          .sort()
          .join(' ')}`,
    )
    .sort();
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const { t, base } = await localhostTestApp();
  const browser = await launchChromium();
  try {
    const user = await createUser(t.app);
    const context = await browser.newContext({ locale: 'en-US' });
    await signInThroughApi(context, base, user);
    const signedOut = await browser.newContext({ locale: 'en-US' });
    const times = new Map<string, number[]>();
    const found = new Map<string, Set<string>>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const screen of SCREENS) {
        const page = await (screen.signedIn ? context : signedOut).newPage();
        for (const name of Object.keys(VARIANTS) as Variant[]) {
          await page.goto(`${base}${screen.path}`);
          await page.getByRole('heading', { level: 1, name: screen.h1 }).waitFor();
          // Whatever the screen still loads (lists, counts) is there before either scan.
          await page.waitForLoadState('networkidle');
          if (screen.broken) await page.evaluate(BREAK_THE_PAGE);
          const start = performance.now();
          const violations = await VARIANTS[name](page);
          const key = `${screen.name}\t${name}`;
          times.set(key, [...(times.get(key) ?? []), performance.now() - start]);
          const prints = found.get(screen.name) ?? new Set<string>();
          prints.add(JSON.stringify(fingerprint(violations)));
          found.set(screen.name, prints);
          if (screen.broken && violations.length < 5) {
            throw new Error(`${name} found only ${fingerprint(violations).join('; ')} on the broken page`);
          }
        }
        await page.close();
      }
    }
    const rows: string[][] = [];
    for (const screen of SCREENS) {
      const before = median(times.get(`${screen.name}\tAxeBuilder.analyze (before)`) ?? []);
      const now = median(times.get(`${screen.name}\tin-page axe.run (now)`) ?? []);
      const prints = [...(found.get(screen.name) ?? [])];
      const same = prints.length === 1;
      const rules = same ? (JSON.parse(prints[0] ?? '[]') as string[]).map((p) => p.split(' ')[0]).join(', ') : '';
      rows.push([
        screen.name,
        before.toFixed(0),
        now.toFixed(0),
        (now / before).toFixed(2),
        same ? `same${rules ? `: ${rules}` : ' (none)'}` : 'DIFFERENT',
      ]);
      if (!same) process.exitCode = 1;
    }
    process.stdout.write(
      `${markdownTable(['screen', 'AxeBuilder ms (median)', 'in-page ms (median)', 'ratio', 'violations found'], rows)}\n`,
    );
    process.stdout.write(`${ROUNDS} rounds; load average ${(await import('node:os')).loadavg()[0]?.toFixed(1)}\n`);
    if (process.exitCode)
      process.stdout.write('The two runners found different violations: see the rows marked DIFFERENT.\n');
  } finally {
    await browser.close();
    await t.close();
  }
}

await main();
