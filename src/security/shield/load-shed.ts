/**
 * Load shedding: when the event loop lags, new requests are refused at once with 503 and
 * Retry-After instead of queueing behind the backlog until every client times out.
 *
 * The lag is how late a periodic timer fires: a timer due every 500 ms that fires 800 ms after
 * the previous one means the loop was stuck for 300 ms (the classic toobusy measure). While the
 * last measured lag is above LOAD_SHED_MAX_EVENT_LOOP_DELAY, requests are shed; the next
 * on-time tick lets them in again. (perf_hooks.monitorEventLoopDelay was tried first: its
 * histogram drops the first, long, delay after each reset, so a stall right after a sample
 * went unseen.)
 */
import { performance } from 'node:perf_hooks';

export interface LoadShedderOptions {
  /** Lag in ms above which requests are shed; 0 disables. */
  maxDelayMs: number;
  sampleIntervalMs?: number;
}

export class LoadShedder {
  private timer: NodeJS.Timeout | null = null;
  private readonly intervalMs: number;
  private last = performance.now();
  private shedding = false;
  /** Last measured lag in ms. */
  lastDelayMs = 0;

  constructor(private readonly options: LoadShedderOptions) {
    this.intervalMs = options.sampleIntervalMs ?? 500;
  }

  /** Starts measuring (the app calls this when ready). */
  start(): void {
    if (this.options.maxDelayMs <= 0 || this.timer) return;
    this.last = performance.now();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  get enabled(): boolean {
    return this.options.maxDelayMs > 0;
  }

  /** True while requests should be shed. */
  get overloaded(): boolean {
    return this.shedding;
  }

  /** Seconds a shed client should wait: two sampling intervals, at least one second. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((2 * this.intervalMs) / 1000));
  }

  private tick(): void {
    const now = performance.now();
    this.lastDelayMs = Math.max(0, now - this.last - this.intervalMs);
    this.last = now;
    this.shedding = this.lastDelayMs > this.options.maxDelayMs;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.shedding = false;
  }
}
