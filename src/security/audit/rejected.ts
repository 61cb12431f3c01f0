/**
 * Requests refused by the shield (429, or 403 CLIENT_BLOCKED) are counted, not written one by one:
 * a flood must not turn into a flood of inserts. One event per client and minute carries the
 * count (`http.limited` / `http.blocked`); past MAX_KEYS clients, the rest share one entry.
 */
import type { Clock } from '../../platform/clock.js';
import { AUDIT_ACTIONS } from './actions.js';
import type { AuditEventInput } from './event.js';

const MAX_KEYS = 1000;

interface Rejected {
  kind: 'limited' | 'blocked';
  ip: string | null;
  count: number;
  status: number;
  routes: Set<string>;
  since: string;
}

export class RejectedRequests {
  private entries = new Map<string, Rejected>();

  constructor(
    private readonly clock: Clock,
    private readonly write: (event: AuditEventInput) => Promise<void>,
  ) {}

  note(kind: 'limited' | 'blocked', ip: string | null, route: string | null, status: number): void {
    const key = this.entries.size >= MAX_KEYS ? `${kind}|*` : `${kind}|${ip ?? ''}`;
    const entry = this.entries.get(key);
    if (entry) {
      entry.count++;
      if (route && entry.routes.size < 5) entry.routes.add(route);
      return;
    }
    this.entries.set(key, {
      kind,
      ip: key.endsWith('|*') ? null : ip,
      count: 1,
      status,
      routes: new Set(route ? [route] : []),
      since: this.clock.now().toISOString(),
    });
  }

  /** Writes one event per counted client and starts counting afresh. */
  async flush(): Promise<void> {
    if (this.entries.size === 0) return;
    const entries = [...this.entries.values()];
    this.entries = new Map();
    for (const e of entries) {
      await this.write({
        action: e.kind === 'limited' ? AUDIT_ACTIONS.httpLimited : AUDIT_ACTIONS.httpBlocked,
        actor: 'anonymous',
        outcome: 'denied',
        ip: e.ip,
        metadata: {
          count: e.count,
          status: e.status,
          routes: [...e.routes],
          since: e.since,
          ...(e.ip === null ? { clients: 'many' } : {}),
        },
      });
    }
  }
}
