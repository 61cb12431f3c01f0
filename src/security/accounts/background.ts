/**
 * Work done after the answer is sent. The anti-enumeration endpoints (forgot password, resend
 * verification, registration with a taken email) answer at once and do what depends on whether
 * the account exists afterwards, so neither the status, the body nor the time of the answer can
 * tell. The app waits for these tasks when it closes; tests call `flush()`.
 */
export class BackgroundTasks {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly log: { error: (obj: object, msg: string) => void }) {}

  /** Starts `task` without awaiting it; a failure is logged, never thrown at a request. */
  run(name: string, task: () => Promise<unknown>): void {
    const p: Promise<void> = Promise.resolve()
      .then(task)
      .then(
        () => undefined,
        (err: unknown) => this.log.error({ err, task: name }, 'background account task failed'),
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Waits until every task started so far (and any they start) has finished. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  get size(): number {
    return this.pending.size;
  }
}
