import { fileURLToPath } from 'node:url';

/** What every supply-chain check returns: findings fail `npm run security`, notes only inform. */
export interface CheckResult {
  /** Short name shown in the report and accepted by `npm run security -- --only NAME`. */
  name: string;
  /** One line each; any finding makes the run fail. */
  findings: string[];
  /** One line each; context such as "skipped: the registry did not answer". Never fails the run. */
  notes: string[];
}

/** The repository root, derived from this file's place (scripts/lib/supply-chain/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
