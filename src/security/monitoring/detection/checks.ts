/**
 * The rules that are not events but checks on a schedule (the leader runs them, every rule's
 * `interval` seconds): the audit chain verifies, a verified backup within BACKUP_RPO_HOURS, and
 * security.txt not about to expire. Each returns what to raise, or nothing.
 */
import type { Config } from '../../../config/index.js';
import { rpoStatus } from '../../../backup/status.js';
import type { AuditService } from '../../audit/service.js';
import { describeResult } from '../../audit/verify.js';
import type { Rule } from './rules.js';

export interface CheckFinding {
  key: string;
  count: number;
  summary: string;
}

export interface CheckDeps {
  config: Config;
  /** verify for the chain check; reveal for the readable form of sealed events (IP and user agent are encrypted). */
  audit: Pick<AuditService, 'verify' | 'reveal'>;
}

const DAY_MS = 86_400_000;

export async function runCheck(rule: Rule, deps: CheckDeps, now: Date): Promise<CheckFinding | undefined> {
  switch (rule.kind) {
    case 'audit-verify': {
      const result = await deps.audit.verify();
      if (result.ok) return undefined;
      return { key: 'chain', count: 1, summary: `${rule.description} ${describeResult(result)}` };
    }
    case 'backup': {
      let status;
      try {
        status = await rpoStatus(deps.config, now, { fresh: true });
      } catch (err) {
        return {
          key: 'catalog',
          count: 1,
          summary: `${rule.description} The backup catalog cannot be read: ${(err as Error).message}`,
        };
      }
      if (status.status === 'ok') return undefined;
      const what =
        status.status === 'none'
          ? 'there is no verified backup'
          : `the newest verified backup is ${status.ageHours ?? '?'} h old (RPO ${status.rpoHours} h)`;
      return { key: status.status, count: 1, summary: `${rule.description} Now ${what}.` };
    }
    case 'security-txt': {
      const expires = deps.config.SECURITY_TXT_EXPIRES;
      if (!expires) return undefined;
      const left = new Date(expires).getTime() - now.getTime();
      if (left >= rule.days * DAY_MS) return undefined;
      const days = Math.max(0, Math.ceil(left / DAY_MS));
      return {
        key: expires,
        count: days,
        summary:
          left <= 0
            ? `security.txt expired at ${expires}: renew SECURITY_TXT_EXPIRES.`
            : `security.txt expires in ${days} day(s) (${expires}): renew SECURITY_TXT_EXPIRES.`,
      };
    }
    default:
      return undefined;
  }
}
