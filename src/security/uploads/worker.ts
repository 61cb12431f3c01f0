/**
 * The background worker of the uploads module: retries quarantined files whose scan failed or
 * could not run, and rescans available files when clamd reports another signature version.
 *
 * `runOnce()` is one bounded pass (at most `batch` files of each kind); `start()` runs it every
 * UPLOAD_RETRY_INTERVAL seconds on an unref'd timer, and `stop()` (app onClose) waits for the pass
 * in progress. Tests call `runOnce()` with a ManualClock instead of waiting.
 */
import type { ClamdClient } from '../../platform/clamd/index.js';
import type { Clock } from '../../platform/clock.js';
import type { UploadService } from './service.js';

export interface WorkerResult {
  retried: number;
  available: number;
  rescanned: number;
  infected: number;
}

export class UploadWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<WorkerResult> | null = null;
  private stopped = false;

  constructor(
    private readonly o: {
      service: UploadService;
      scanner: Pick<ClamdClient, 'version'> | null;
      clock: Clock;
      batch?: number;
      log?: { warn(obj: object, msg: string): void };
    },
  ) {}

  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      void this.runOnce().catch((err: unknown) => this.o.log?.warn({ err }, 'uploads: worker pass failed'));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass; a pass already running is joined rather than doubled. */
  runOnce(): Promise<WorkerResult> {
    if (this.running) return this.running;
    this.running = this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<WorkerResult> {
    const result: WorkerResult = { retried: 0, available: 0, rescanned: 0, infected: 0 };
    const { service } = this.o;
    const batch = this.o.batch ?? 20;
    const due = await service.repo.listRetryDue(this.o.clock.now(), batch);
    for (const row of due) {
      if (this.stopped) break;
      // Without a scanner only an explicit UPLOAD_SCAN=off lets a waiting file through.
      if (!this.o.scanner && service.settings.scan === 'on') break;
      try {
        const after = await service.quarantine.retry(row);
        if (after) {
          result.retried++;
          if (after.status === 'available') result.available++;
        }
      } catch (err) {
        this.o.log?.warn({ err, mediaId: row.id }, 'uploads: retry failed');
      }
    }
    if (!this.o.scanner || this.stopped) return result;
    let version: string;
    try {
      version = await this.o.scanner.version({ fresh: true });
    } catch {
      return result;
    }
    const stale = await service.repo.listStale(version, batch);
    for (const row of stale) {
      if (this.stopped) break;
      const verdict = await service.quarantine.rescan(row).catch(() => 'error' as const);
      if (verdict === 'error') break; // the scanner is struggling: try again next pass
      result.rescanned++;
      if (verdict === 'infected') result.infected++;
    }
    return result;
  }
}
