/**
 * The shape of enumeration-safe routes: the answer waits only for `before` (the same work for
 * every account), never for `after` (what depends on the account), and a refusal in `before`
 * starts nothing.
 */
import { describe, expect, it } from 'vitest';
import { answerNowWorkLater, type AfterAnswer } from './answer-now.js';

function heldTasks() {
  const held: { name: string; task: () => Promise<unknown> }[] = [];
  const tasks: AfterAnswer = { run: (name, task) => void held.push({ name, task }) };
  return { held, tasks };
}

describe('answerNowWorkLater', () => {
  it('returns before the account-dependent work has run, and hands it what `before` prepared', async () => {
    const { held, tasks } = heldTasks();
    const seen: string[] = [];
    await answerNowWorkLater(tasks, {
      name: 'register',
      before: async () => {
        seen.push('before');
        return 'prepared';
      },
      after: async (prepared) => void seen.push(`after:${prepared}`),
    });
    expect(seen).toEqual(['before']);
    expect(held.map((h) => h.name)).toEqual(['register']);
    await held[0]!.task();
    expect(seen).toEqual(['before', 'after:prepared']);
  });

  it('without `before`, only schedules', async () => {
    const { held, tasks } = heldTasks();
    let ran = false;
    await answerNowWorkLater(tasks, { name: 'password forgot', after: async () => (ran = true) });
    expect(ran).toBe(false);
    expect(held).toHaveLength(1);
  });

  it('a refusal before the answer is thrown at the request and schedules nothing', async () => {
    const { held, tasks } = heldTasks();
    const refused = new Error('weak password');
    await expect(
      answerNowWorkLater(tasks, {
        name: 'register',
        before: async () => {
          throw refused;
        },
        after: async () => undefined,
      }),
    ).rejects.toBe(refused);
    expect(held).toHaveLength(0);
  });
});
