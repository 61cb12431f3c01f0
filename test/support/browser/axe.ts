/**
 * Accessibility check with axe-core (WCAG 2.0/2.1/2.2 A and AA rules and best practices): fails
 * on any serious or critical violation, naming the rule and the elements.
 *
 * The rules and the tags are the ones `new AxeBuilder({ page }).withTags(AXE_TAGS).analyze()` of
 * @axe-core/playwright runs; what differs is only how they are run, because that call costs
 * seconds per scan on a loaded machine: it injects axe's 500 kB source into the page on every
 * call, runs `axe.runPartial`, then opens a second page in the context, injects the source there
 * too, sends it every result (passes and inapplicable rules with all their nodes) and runs
 * `axe.finishRun` in it. On a page without frames (every console screen) the same rules give the
 * same violations from one `axe.run(document)` in the page itself, so here:
 * - axe is injected once per document (a full page load brings a new document; an in-app
 *   navigation keeps it) and configured as AxeBuilder configures it;
 * - `axe.run` with the same `runOnly` tags, returning the violations in full and the other result
 *   types (passes, incomplete, inapplicable, which nothing here reads) without their nodes
 *   (`resultTypes: ['violations']`: axe still runs every rule on every node);
 * - a page with frames goes through AxeBuilder as before, which runs axe in each frame.
 * bench/browser-axe.ts compares both on console screens and checks they find the same.
 */
import { createRequire } from 'node:module';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/** The axe-core AxeBuilder itself injects (resolved from @axe-core/playwright: the same copy and version). */
const AXE_SOURCE = (
  createRequire(createRequire(import.meta.url).resolve('@axe-core/playwright'))('axe-core') as { source: string }
).source;

/** What an axe violation carries that the message below reads. */
export interface AxeViolation {
  id: string;
  impact?: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

const RUN_OPTIONS = JSON.stringify({ runOnly: { type: 'tag', values: AXE_TAGS }, resultTypes: ['violations'] });

/** Every violation on the page as it is now, the way AxeBuilder(...).withTags(AXE_TAGS).analyze() finds them. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (page.frames().length > 1) {
    return (await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze()).violations;
  }
  // Strings, not functions: this project compiles without the DOM lib, and they run in the page.
  // page.evaluate goes through the DevTools protocol, outside the page's CSP (as AxeBuilder's does).
  if (!(await page.evaluate('typeof window.axe?.run === "function"'))) {
    await page.evaluate(AXE_SOURCE);
    await page.evaluate(
      `axe.configure({ allowedOrigins: ['<same_origin>'], branding: { application: 'playwright' } })`,
    );
  }
  return page.evaluate<AxeViolation[]>(`axe.run(document, ${RUN_OPTIONS}).then((r) => r.violations)`);
}

/** The serious and critical violations on the page as it is now, as readable lines. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  return (await axeViolations(page))
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export async function expectNoSeriousA11yViolations(page: Page, where = page.url()): Promise<void> {
  const found = await seriousA11yViolations(page);
  if (found.length > 0) throw new Error(`axe on ${where}:\n${found.join('\n')}`);
}
