/**
 * Accessibility check with @axe-core/playwright (WCAG 2.0/2.1/2.2 A and AA rules): fails on any
 * serious or critical violation, naming the rule and the elements.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/** The serious and critical violations on the page as it is now, as readable lines. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export async function expectNoSeriousA11yViolations(page: Page, where = page.url()): Promise<void> {
  const found = await seriousA11yViolations(page);
  if (found.length > 0) throw new Error(`axe on ${where}:\n${found.join('\n')}`);
}
