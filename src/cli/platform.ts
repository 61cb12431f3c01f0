/**
 * What every command that changes state needs: the configuration, the platform (database, KV)
 * and the audit log, opened in that order and closed in the reverse one, whatever happens in
 * between. A database that cannot be opened is one clear sentence (CliError), not a stack trace.
 */
import os from 'node:os';
import { loadConfig, type Config } from '../config/index.js';
import type { AppDeps } from '../app.js';
import { closePlatform, openPlatform } from '../platform/bootstrap.js';
import { systemClock } from '../platform/clock.js';
import type { RequestContext } from '../security/audit/event.js';
import { createAuditService, type AuditService } from '../security/audit/service.js';
import { CliError } from './errors.js';

export interface AuditedPlatform {
  config: Config;
  deps: AppDeps;
  audit: AuditService;
}

export async function withAuditedPlatform<T>(fn: (opened: AuditedPlatform) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const deps = await openPlatform(config).catch((err: unknown) => {
    throw new CliError(`Cannot open the database: ${err instanceof Error ? err.message : String(err)}`);
  });
  try {
    const audit = await createAuditService({ db: deps.db, clock: systemClock, config }, { createKey: true });
    try {
      return await fn({ config, deps, audit });
    } finally {
      await audit.stop();
    }
  } finally {
    await closePlatform(deps);
  }
}

/** The author of a change made at the command line: actor `system`, the OS account as user agent. */
export function operatorAuthor(): { actorId: string; context: RequestContext } {
  return {
    actorId: 'system',
    context: { ip: null, userAgent: `portfolio-admin (${os.userInfo().username})`, requestId: null },
  };
}
