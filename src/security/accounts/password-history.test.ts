/**
 * Password history (issue #9: "rejects any of the last PASSWORD_HISTORY passwords and the
 * current one") and the offline common/breached password check it relies on (NIST SP 800-63B
 * 5.1.1.2: compare new passwords against lists of commonly used or compromised values).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb } from '../../../test/helpers/app.js';
import { ManualClock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/index.js';
import { migrate } from '../../platform/db/migrate.js';
import { newId } from '../../platform/ids.js';
import { checkPasswordPolicy, hashPassword } from '../../users/password.js';
import { PasswordHistory, PasswordReusedError } from './password-history.js';

let db: Db;
let drop: () => Promise<void>;
const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));

beforeAll(async () => {
  ({ db, drop } = await openTestDb());
  await migrate(db);
});
afterAll(async () => {
  await drop();
});

/** Creates a user with `first`, then changes the password to each of `next` the way the flows will. */
async function userWithPasswords(history: PasswordHistory, first: string, next: string[]): Promise<string> {
  const id = newId();
  await db.query(`insert into users (id, email, name, password_hash) values ($1, $2, 'x', $3)`, [
    id,
    `${id}@example.test`,
    await hashPassword(first),
  ]);
  for (const password of next) {
    await history.assertNotReused(id, password);
    const newHash = await hashPassword(password);
    await db.transaction(async (tx) => {
      const [row] = await tx.query<{ hash: string }>(`select password_hash as hash from users where id = $1`, [id]);
      await history.remember(id, row?.hash as string, tx);
      await tx.query(`update users set password_hash = $2 where id = $1`, [id, newHash]);
    });
    clock.advance(1_000);
  }
  return id;
}

describe('password history', () => {
  const P = Array.from({ length: 8 }, (_, i) => `Violet-Harbor-${i}-Lantern-${i * 7}`);

  it('refuses the current password and each of the last 5; accepts the 6th-oldest', async () => {
    const history = new PasswordHistory(db, clock, 5);
    // P0 first, then P1..P6: current is P6, history keeps P1..P5, P0 has dropped out.
    const id = await userWithPasswords(history, P[0] as string, P.slice(1, 7));
    expect(await history.count(id)).toBe(5);
    for (const old of P.slice(1, 7)) {
      await expect(history.assertNotReused(id, old)).rejects.toBeInstanceOf(PasswordReusedError);
    }
    await expect(history.assertNotReused(id, P[0] as string)).resolves.toBeUndefined();
    await expect(history.assertNotReused(id, P[7] as string)).resolves.toBeUndefined();
    const err = await history.assertNotReused(id, P[6] as string).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'PASSWORD_REUSED' });
  });

  it('PASSWORD_HISTORY=0 refuses only the current password and keeps no hashes', async () => {
    const history = new PasswordHistory(db, clock, 0);
    const id = await userWithPasswords(history, 'First-Harbor-Lantern-1', ['Second-Harbor-Lantern-2']);
    expect(await history.count(id)).toBe(0);
    await expect(history.assertNotReused(id, 'Second-Harbor-Lantern-2')).rejects.toBeInstanceOf(PasswordReusedError);
    await expect(history.assertNotReused(id, 'First-Harbor-Lantern-1')).resolves.toBeUndefined();
  });

  it("is per user: another user's old password is fine", async () => {
    const history = new PasswordHistory(db, clock, 5);
    await userWithPasswords(history, 'Shared-Harbor-Lantern-1', ['Other-Harbor-Lantern-2']);
    const id = await userWithPasswords(history, 'Mine-Harbor-Lantern-3', []);
    await expect(history.assertNotReused(id, 'Shared-Harbor-Lantern-1')).resolves.toBeUndefined();
  });
});

describe('common and breached passwords (offline, zxcvbn dictionaries)', () => {
  it('refuses well-known breached passwords of policy length without any network', async () => {
    for (const p of [
      'password1234',
      '123456789012',
      'qwerty123456',
      '1q2w3e4r5t6y',
      'iloveyou2024',
      'Password123!',
      'letmein12345',
    ]) {
      await expect(checkPasswordPolicy(p, 3)).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
    }
    await expect(checkPasswordPolicy('Violet-Harbor-Lantern-42', 3)).resolves.toBeUndefined();
  });
});
