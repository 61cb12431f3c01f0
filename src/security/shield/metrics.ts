/**
 * Prometheus metrics of the shield, on a registry of the app's own (never prom-client's global
 * one: tests build many apps in one process, and each must count only its own requests).
 * Served at /metrics; other modules may register their metrics on `app.metrics`.
 */
import { Counter, Gauge, Registry } from 'prom-client';

export class ShieldMetrics {
  readonly registry = new Registry();
  readonly allowed = new Counter({
    name: 'rate_limit_allowed_total',
    help: 'Requests admitted by the rate limiter.',
    registers: [this.registry],
  });
  readonly limited = new Counter({
    name: 'rate_limit_limited_total',
    help: 'Requests refused with 429, by the policy that refused them.',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });
  readonly blocked = new Counter({
    name: 'rate_limit_blocked_total',
    help: 'Requests refused with 403 CLIENT_BLOCKED: reason "auto" (automatic block) or "deny" (IP_DENY_LIST).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly fallbackMode = new Gauge({
    name: 'rate_limit_fallback_mode',
    help: '1 while this node limits in memory because Redis is unreachable, else 0.',
    registers: [this.registry],
  });
  readonly fallbackSwitches = new Counter({
    name: 'rate_limit_fallback_switches_total',
    help: 'Switches between Redis and the in-memory fallback, by the mode switched to.',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });
  readonly failClosed = new Counter({
    name: 'rate_limit_fail_closed_total',
    help: 'Requests refused with 503 because a fail-closed policy could not reach Redis.',
    registers: [this.registry],
  });
  readonly violations = new Counter({
    name: 'auto_block_violations_total',
    help: 'Violations counted towards automatic blocks, by status (429, 413, 408).',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly blocksCreated = new Counter({
    name: 'auto_block_blocks_total',
    help: 'Automatic blocks raised by this node.',
    registers: [this.registry],
  });
  readonly shed = new Counter({
    name: 'load_shed_total',
    help: 'Requests refused with 503 because the event loop lagged (load shedding).',
    registers: [this.registry],
  });
  readonly tooLarge = new Counter({
    name: 'request_body_too_large_total',
    help: 'Requests refused with 413 because the body exceeded MAX_REQUEST_SIZE.',
    registers: [this.registry],
  });
}
