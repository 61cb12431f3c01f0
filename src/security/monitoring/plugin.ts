/**
 * Metrics an SRE expects on /metrics (docs/MONITORING.md), on the app's registry (`app.metrics`,
 * made by the shield, which serves /metrics to METRICS_ALLOW_LIST only):
 * - process and runtime metrics (prom-client's defaults);
 * - `http_request_duration_seconds` by method, route template and status class (./http-metrics.ts);
 * - security counters derived from committed audit events (./security-counters.ts);
 * - readings taken at scrape time, never on the request path: database and KV health, the
 *   PostgreSQL pool, media per pipeline status (the quarantine's size), the audit sealing lag and
 *   the newest verified backup's age.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';
import { rpoStatus } from '../../backup/status.js';
import { KvLease } from '../../platform/kv/lease.js';
import { withTimeout } from '../../platform/with-timeout.js';
import { HttpMetrics } from './http-metrics.js';
import { MonitoringRepository } from './repository.js';
import { SecurityCounters } from './security-counters.js';
import { SiemRepository } from './siem/repository.js';
import { SiemShipper } from './siem/shipper.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The SIEM shipper when SIEM_SYSLOG_URL is set, else null (read-only use: `held()`, `confirmedSeq`). */
    siemShipper: SiemShipper | null;
  }
}

/** A reading at scrape time: the answer, or undefined when the store fails or does not answer in time. */
function within<T>(ms: number, fn: () => Promise<T>): Promise<T | undefined> {
  return withTimeout(fn(), ms).catch(() => undefined);
}

const PROBE_MS = 2_000;

export const monitoringPlugin = fp(
  async (app: FastifyInstance) => {
    const { db, kv, config, clock } = app.deps;
    const registers = [app.metrics];
    collectDefaultMetrics({ register: app.metrics });

    const http = new HttpMetrics(registers);
    // Callback style, like the shield's: no promise per response.
    app.addHook('onResponse', (request, reply, done) => {
      http.observe(request, reply);
      done();
    });

    const counters = new SecurityCounters(registers);
    app.audit.onRecorded((event) => counters.observe(event));

    const repo = new MonitoringRepository(db);
    new Gauge({
      name: 'db_up',
      help: '1 when the database answered a ping at scrape time, else 0.',
      labelNames: ['kind'] as const,
      registers,
      async collect() {
        const ok = await within(PROBE_MS, async () => {
          await db.ping();
          return true;
        });
        this.set({ kind: db.kind }, ok ? 1 : 0);
      },
    });
    // Declared on every node (PGlite has no pool: no series), so dashboards and rules resolve.
    const poolStats = db.poolStats?.bind(db);
    new Gauge({
      name: 'db_pool_connections',
      help: 'PostgreSQL pool: connections open (total), idle, and queries waiting for one. No series on PGlite.',
      labelNames: ['state'] as const,
      registers,
      collect() {
        if (!poolStats) return;
        const s = poolStats();
        this.set({ state: 'total' }, s.total);
        this.set({ state: 'idle' }, s.idle);
        this.set({ state: 'waiting' }, s.waiting);
      },
    });
    new Gauge({
      name: 'kv_up',
      help: '1 when the key-value store (Redis, or the in-memory one) answered a ping at scrape time, else 0.',
      labelNames: ['kind'] as const,
      registers,
      async collect() {
        const ok = await within(PROBE_MS, async () => {
          await kv.ping();
          return true;
        });
        this.set({ kind: kv.kind }, ok ? 1 : 0);
      },
    });
    new Gauge({
      name: 'media_files',
      help: 'Media rows by pipeline status; status="quarantined" is the quarantine size.',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        const rows = await within(PROBE_MS, () => repo.mediaByStatus());
        this.reset();
        for (const row of rows ?? []) this.set({ status: row.status }, row.n);
      },
    });
    const inboxEvents = new Gauge({
      name: 'audit_inbox_events',
      help: 'Audit events committed but not yet sealed into the hash chain.',
      registers,
    });
    new Gauge({
      name: 'audit_sealing_lag_seconds',
      help: 'Age of the oldest audit event waiting to be sealed (0 when none waits).',
      registers,
      async collect() {
        const inbox = await within(PROBE_MS, () => repo.auditInbox());
        if (!inbox) return;
        inboxEvents.set(inbox.n);
        this.set(inbox.oldest ? Math.max(0, (clock.now().getTime() - inbox.oldest.getTime()) / 1000) : 0);
      },
    });
    const presentGauge = new Gauge({
      name: 'backup_verified_present',
      help: '1 when at least one verified backup exists, else 0.',
      registers,
    });
    new Gauge({ name: 'backup_rpo_hours', help: 'The recovery point objective (BACKUP_RPO_HOURS).', registers }).set(
      config.BACKUP_RPO_HOURS,
    );
    new Gauge({
      name: 'backup_newest_verified_age_hours',
      help: 'Age of the newest verified (drilled) backup; absent when there is none (see backup_verified_present).',
      registers,
      async collect() {
        const status = await within(PROBE_MS, () => rpoStatus(config, clock.now()));
        this.reset();
        presentGauge.set(status?.ageHours == null ? 0 : 1);
        if (status?.ageHours != null) this.set(status.ageHours);
      },
    });

    installSiem(app, registers);
  },
  { name: 'monitoring', dependencies: ['deps', 'audit', 'shield'] },
);

/**
 * SIEM delivery (./siem/) when SIEM_SYSLOG_URL is set: started when the app is ready, on every
 * node; one ships at a time. `siem_lag_events` is declared either way (no series without it).
 */
function installSiem(app: FastifyInstance, registers: Registry[]): void {
  const { db, kv, config } = app.deps;
  const repo = new SiemRepository(db);
  const url = config.SIEM_SYSLOG_URL;
  const shipper = url
    ? new SiemShipper({
        url,
        format: config.SIEM_FORMAT,
        caFile: config.SIEM_TLS_CA_FILE,
        confirmMs: config.SIEM_CONFIRM_MS,
        repo,
        // Decrypted where a key remains: the receiver gets what an admin read shows (docs/PRIVACY.md).
        range: (afterSeq, limit) => app.audit.readRange(afterSeq, limit),
        lease: new KvLease(kv, `siem:lease:${new URL(url).host}`, 30_000),
        log: app.log,
      })
    : undefined;
  new Gauge({
    name: 'siem_lag_events',
    help: 'Sealed audit events not yet confirmed delivered to the SIEM receiver (no series without SIEM_SYSLOG_URL).',
    labelNames: ['destination'] as const,
    registers,
    async collect() {
      if (!shipper) return;
      const lag = await within(PROBE_MS, async () => {
        const [head, cursor] = await Promise.all([repo.head(), repo.cursor(shipper.destination)]);
        return Math.max(0, head - (cursor ?? 0));
      });
      if (lag !== undefined) this.set({ destination: 'syslog' }, lag);
    },
  });
  app.decorate('siemShipper', shipper ?? null);
  if (!shipper) return;
  app.addHook('onReady', async () => shipper.start());
  app.addHook('onClose', async () => shipper.stop());
}
