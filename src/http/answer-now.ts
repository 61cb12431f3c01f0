/**
 * "Answer now, work later": the shape of every route that must not tell whether an account
 * exists (forgot password, resend verification, registration with EMAIL_VERIFICATION=required).
 * The answer is fixed: the same status and body for every email. What depends on the account
 * (the lookup, the insert, the token, the mail) runs after the answer, so its time cannot tell
 * either. Only work that is the same whatever the account (the checks, one password hash) may run
 * before the answer, and it may refuse (a weak password is a 400 for every email).
 *
 * A handler awaits `answerNowWorkLater(tasks, work)`, then sends its fixed answer.
 */

/** Where work after the answer runs: failures are logged, never answered; the app waits for it on close. */
export interface AfterAnswer {
  run(name: string, task: () => Promise<unknown>): void;
}

export interface QuietWork<P> {
  /** Names the task in the log when it fails. */
  name: string;
  /** Before the answer: the same work whatever the account. Its result goes to `after`. */
  before?: () => Promise<P>;
  /** After the answer: everything that depends on the account. */
  after: (prepared: P) => Promise<unknown>;
}

/** Runs `before`, then hands `after` to `tasks`; the answer may be sent when this returns. */
export async function answerNowWorkLater<P = undefined>(tasks: AfterAnswer, work: QuietWork<P>): Promise<void> {
  const prepared = work.before ? await work.before() : (undefined as P);
  tasks.run(work.name, () => work.after(prepared));
}
